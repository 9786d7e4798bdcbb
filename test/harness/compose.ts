// Reading deploy/'s compose files as docker compose would, for the tests that check them (a box's compose.yaml,
// the hub's compose.hub.yaml): variables at their defaults, each service's mounts, and what is wrong with them.
import { existsSync } from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ComposeFile = Record<string, any>;

export interface ComposeMount {
  source: string;
  target: string;
  mode: string | undefined;
  /** A folder or file of the checkout (./...), not a named volume. */
  bind: boolean;
}

/** Compose's ${VAR:-default}, at its default. */
export const composeValue = (value: string): string => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

export function composeMounts(compose: ComposeFile, service: string): ComposeMount[] {
  return ((compose.services[service]!.volumes ?? []) as string[]).map((v) => {
    const [source, target, mode] = composeValue(v).split(':');
    return { source: source!, target: target!, mode, bind: /^[./]/.test(source!) };
  });
}

/** A service's mounts that name a missing file, an undeclared volume, or a file of the checkout mounted writable. */
export function mountProblems(compose: ComposeFile, service: string, deployDir: string): string[] {
  const problems: string[] = [];
  for (const m of composeMounts(compose, service)) {
    if (m.bind && !existsSync(path.resolve(deployDir, m.source))) problems.push(`${service}: mounts ${m.source}, which does not exist`);
    if (!m.bind && !(m.source in (compose.volumes ?? {}))) problems.push(`${service}: volume ${m.source} is not declared`);
    if (m.bind && m.mode !== 'ro') problems.push(`${service}: ${m.source} is mounted writable`);
  }
  return problems;
}
