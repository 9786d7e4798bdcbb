// A Dockerfile parser and Docker's .dockerignore rules, for checking deploy/docker/Dockerfile where no Docker
// engine runs (CI has none). It follows Docker's documented behaviour for what vigil's Dockerfile uses, and
// throws on what it does not understand (heredocs, ONBUILD), so a new construct cannot be misread silently.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type Command = { form: 'exec'; argv: string[] } | { form: 'shell'; text: string };

export interface Instruction {
  keyword: string;
  /** First physical line (1-based). */
  line: number;
  /** --name=value options before the arguments; repeatable ones (--mount) keep every value. */
  flags: Record<string, string[]>;
  /** The arguments after the flags, continuations joined, not yet expanded. */
  args: string;
}

export interface CopyStep {
  kind: 'copy';
  keyword: 'COPY' | 'ADD';
  line: number;
  /** A stage name or index, or an image: absent for the build context. */
  from?: string;
  chown?: string;
  chmod?: string;
  sources: string[];
  /** Absolute path in the image (a relative destination is resolved against WORKDIR). */
  dest: string;
  /** True when dest names a directory the sources go into (trailing slash, several sources, or "."). */
  destIsDir: boolean;
}

export interface RunStep {
  kind: 'run';
  line: number;
  command: Command;
  flags: Record<string, string[]>;
  /** ENV and ARG values in force for this RUN. */
  env: Record<string, string>;
  workdir: string;
}

export interface Healthcheck {
  options: Record<string, string>;
  command: Command;
}

export interface Stage {
  index: number;
  name?: string;
  /** The base, with ARGs expanded: an image reference or an earlier stage's name. */
  from: string;
  instructions: Instruction[];
  steps: Array<CopyStep | RunStep>;
  env: Record<string, string>;
  args: Record<string, string>;
  workdir: string;
  user?: string;
  entrypoint?: Command;
  cmd?: Command;
  /** null: HEALTHCHECK NONE. */
  healthcheck?: Healthcheck | null;
  expose: string[];
  volumes: string[];
  labels: Record<string, string>;
  stopSignal?: string;
}

export interface Dockerfile {
  directives: Record<string, string>;
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'MAINTAINER']);

/** Splits a Dockerfile into instructions: parser directives, comments, continuations. */
export function instructions(text: string): { directives: Record<string, string>; instructions: Instruction[] } {
  const lines = text.split(/\r?\n/);
  const directives: Record<string, string> = {};
  let i = 0;
  // Directives are only recognised before anything else, blank lines included.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m || m[1]!.toLowerCase() in directives) break;
    directives[m[1]!.toLowerCase()] = m[2]!;
  }
  const escape = directives.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') throw new Error(`invalid escape directive "${escape}"`);
  const out: Instruction[] = [];
  const isComment = (l: string) => l.trimStart().startsWith('#');
  while (i < lines.length) {
    const first = lines[i]!;
    if (first.trim() === '' || isComment(first)) {
      i++;
      continue;
    }
    const start = i + 1;
    let logical = '';
    let current = first;
    for (;;) {
      const trimmed = current.replace(/\s+$/, '');
      if (trimmed.endsWith(escape) && !trimmed.endsWith(escape + escape)) {
        logical += trimmed.slice(0, -1);
        i++;
        // Comment and empty lines inside a continuation are dropped, as Docker does.
        while (i < lines.length && (lines[i]!.trim() === '' || isComment(lines[i]!))) i++;
        if (i >= lines.length) break;
        current = lines[i]!;
        continue;
      }
      logical += current;
      i++;
      break;
    }
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(logical)!;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'ONBUILD') throw new Error(`line ${start}: ONBUILD is not supported by this parser`);
    if (!KNOWN.has(keyword)) throw new Error(`line ${start}: unknown instruction "${m[1]}"`);
    let args = m[2]!.trim();
    const flags: Record<string, string[]> = {};
    if (['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK'].includes(keyword)) {
      for (;;) {
        const f = /^--([a-z][a-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(args);
        if (!f) break;
        (flags[f[1]!] ??= []).push(f[2] ?? 'true');
        args = args.slice(f[0].length);
      }
    }
    if (/<<-?["']?[A-Za-z_]/.test(args) && ['RUN', 'COPY', 'ADD'].includes(keyword)) {
      throw new Error(`line ${start}: heredocs are not supported by this parser`);
    }
    out.push({ keyword, line: start, flags, args });
  }
  return { directives, instructions: out };
}

/** Docker's JSON form: a JSON array of strings, else null (then the text is shell form). */
function jsonArray(text: string): string[] | null {
  if (!text.startsWith('[')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : null;
  } catch {
    return null;
  }
}

function command(text: string): Command {
  const argv = jsonArray(text);
  return argv ? { form: 'exec', argv } : { form: 'shell', text };
}

/** Expands $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word}; \$ stays a dollar. Unset names expand to ''. */
export function expand(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced, op, word, bare) => {
    if (all === '\\$') return '$';
    const name = (braced ?? bare) as string;
    const value = vars[name];
    if (op === ':-') return value ? value : expand(word as string, vars);
    if (op === ':+') return value ? expand(word as string, vars) : '';
    return value ?? '';
  });
}

/**
 * Words of ENV and LABEL lines: whitespace separates, quotes group (single quotes without expansion),
 * a backslash escapes the next character.
 */
export function words(text: string, vars: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${text}`);
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let quoted = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && /["\\$]/.test(text[j + 1]!)) quoted += text[++j] === '$' ? '\\$' : text[j];
        else quoted += text[j];
      }
      if (j >= text.length) throw new Error(`unterminated quote in: ${text}`);
      word += expand(quoted, vars);
      i = j;
    } else if (c === '$') {
      const m = /^\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (m) {
        word += expand(m[0], vars);
        i += m[0].length - 1;
      } else word += c;
    } else word += c;
  }
  if (inWord) out.push(word);
  return out;
}

/** key=value pairs (ENV, LABEL, ARG), or ENV's old `ENV key value with spaces` form. */
function pairs(keyword: string, text: string, vars: Record<string, string | undefined>): Array<[string, string | undefined]> {
  const first = /^\S+/.exec(text)?.[0] ?? '';
  if (keyword === 'ENV' && !first.includes('=')) {
    const rest = text.slice(first.length).trim();
    return [[first, words(rest, vars).join(' ')]];
  }
  return words(text, vars).map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

export interface ParseOptions {
  /** --build-arg values. */
  buildArgs?: Record<string, string>;
}

export function parseDockerfile(text: string, options: ParseOptions = {}): Dockerfile {
  const { directives, instructions: list } = instructions(text);
  const buildArgs = options.buildArgs ?? {};
  const globalArgs: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  let cmdSet = false;
  for (const ins of list) {
    if (ins.keyword === 'FROM') {
      const [ref, as, name, ...extra] = expand(ins.args, globalArgs).split(/\s+/);
      if (!ref || (as !== undefined && (as.toLowerCase() !== 'as' || !name)) || extra.length) throw new Error(`line ${ins.line}: FROM ${ins.args}: expected "image [AS name]"`);
      const parent = stages.find((s) => s.name === ref.toLowerCase());
      stage = {
        index: stages.length,
        ...(name ? { name: name.toLowerCase() } : {}),
        from: ref,
        instructions: [ins],
        steps: [],
        env: { ...(parent?.env ?? {}) },
        args: {},
        workdir: parent?.workdir ?? '/',
        ...(parent?.user !== undefined ? { user: parent.user } : {}),
        ...(parent?.entrypoint ? { entrypoint: parent.entrypoint } : {}),
        ...(parent?.cmd ? { cmd: parent.cmd } : {}),
        ...(parent?.healthcheck !== undefined ? { healthcheck: parent.healthcheck } : {}),
        expose: [...(parent?.expose ?? [])],
        volumes: [...(parent?.volumes ?? [])],
        labels: { ...(parent?.labels ?? {}) },
        ...(parent?.stopSignal ? { stopSignal: parent.stopSignal } : {}),
      };
      stages.push(stage);
      cmdSet = false;
      continue;
    }
    if (ins.keyword === 'ARG' && !stage) {
      for (const [k, v] of pairs('ARG', ins.args, globalArgs)) globalArgs[k] = buildArgs[k] ?? v;
      continue;
    }
    if (!stage) throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
    stage.instructions.push(ins);
    // Inside a stage ARGs and ENVs expand; ENV wins over an ARG of the same name.
    const vars = { ...stage.args, ...stage.env };
    switch (ins.keyword) {
      case 'ARG':
        for (const [k, v] of pairs('ARG', ins.args, vars)) {
          const value = buildArgs[k] ?? v ?? globalArgs[k];
          if (value !== undefined) stage.args[k] = value;
        }
        break;
      case 'ENV':
        for (const [k, v] of pairs('ENV', ins.args, vars)) {
          if (v === undefined) throw new Error(`line ${ins.line}: ENV ${k} has no value`);
          stage.env[k] = v;
        }
        break;
      case 'LABEL':
        for (const [k, v] of pairs('LABEL', ins.args, vars)) stage.labels[k] = v ?? '';
        break;
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, expand(ins.args, vars));
        break;
      case 'USER':
        stage.user = expand(ins.args, vars);
        break;
      case 'STOPSIGNAL':
        stage.stopSignal = expand(ins.args, vars);
        break;
      case 'EXPOSE':
        stage.expose.push(...expand(ins.args, vars).split(/\s+/));
        break;
      case 'VOLUME':
        stage.volumes.push(...(jsonArray(ins.args) ?? expand(ins.args, vars).split(/\s+/)));
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = command(ins.args);
        // An ENTRYPOINT resets a CMD inherited from the base, not one set in this stage.
        if (!cmdSet) delete stage.cmd;
        break;
      case 'CMD':
        stage.cmd = command(ins.args);
        cmdSet = true;
        break;
      case 'HEALTHCHECK': {
        if (/^NONE$/i.test(ins.args)) {
          stage.healthcheck = null;
          break;
        }
        const m = /^CMD\s+([\s\S]+)$/i.exec(ins.args);
        if (!m) throw new Error(`line ${ins.line}: HEALTHCHECK expects CMD or NONE`);
        const options = Object.fromEntries(Object.entries(ins.flags).map(([k, v]) => [k, v[v.length - 1]!]));
        stage.healthcheck = { options, command: command(m[1]!.trim()) };
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'run', line: ins.line, command: command(ins.args), flags: ins.flags, env: { ...stage.args, ...stage.env }, workdir: stage.workdir });
        break;
      case 'COPY':
      case 'ADD': {
        const list = (jsonArray(ins.args) ?? expand(ins.args, vars).split(/\s+/)).filter(Boolean);
        if (list.length < 2) throw new Error(`line ${ins.line}: ${ins.keyword} needs a source and a destination`);
        const rawDest = list.pop()!;
        const one = (name: string) => ins.flags[name]?.[ins.flags[name]!.length - 1];
        const from = one('from'), chown = one('chown'), chmod = one('chmod');
        stage.steps.push({
          kind: 'copy',
          keyword: ins.keyword,
          line: ins.line,
          ...(from !== undefined ? { from } : {}),
          ...(chown !== undefined ? { chown } : {}),
          ...(chmod !== undefined ? { chmod } : {}),
          sources: list,
          dest: path.posix.resolve(stage.workdir, rawDest),
          destIsDir: rawDest.endsWith('/') || rawDest === '.' || list.length > 1,
        });
        break;
      }
      case 'SHELL':
      case 'MAINTAINER':
        break;
    }
  }
  return { directives, globalArgs, stages };
}

export function stageNamed(file: Dockerfile, name: string): Stage {
  const stage = file.stages.find((s) => s.name === name.toLowerCase()) ?? file.stages[Number(name)];
  if (!stage) throw new Error(`no stage "${name}" in the Dockerfile`);
  return stage;
}

/** The argv a command runs: shell form goes through /bin/sh -c, as with Docker's default SHELL. */
export function argv(cmd: Command): string[] {
  return cmd.form === 'exec' ? cmd.argv : ['/bin/sh', '-c', cmd.text];
}

// ---- .dockerignore ----

interface IgnorePattern {
  text: string;
  negate: boolean;
  regex: RegExp;
}

function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // "**/" is any number of directories, zero included; a trailing "**" anything.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`bad pattern ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += '\\' + pattern[++i];
    else re += /[.+^${}()|\\]/.test(c) ? '\\' + c : c;
  }
  return new RegExp(`^${re}$`);
}

/**
 * Docker's .dockerignore: one pattern a line, # comments, relative to the context root (a leading / is
 * dropped), Go's filepath.Match syntax plus "**"; "!" re-includes; the last matching pattern decides; a
 * pattern that matches a directory matches everything in it.
 */
export class DockerIgnore {
  readonly patterns: IgnorePattern[];

  constructor(text: string) {
    this.patterns = [];
    for (const raw of text.split(/\r?\n/)) {
      let line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const negate = line.startsWith('!');
      if (negate) line = line.slice(1).trim();
      line = path.posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
      if (line === '.' || line === '') continue;
      this.patterns.push({ text: line, negate, regex: globToRegex(line) });
    }
  }

  static read(contextDir: string): DockerIgnore {
    try {
      return new DockerIgnore(readFileSync(path.join(contextDir, '.dockerignore'), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new DockerIgnore('');
      throw err;
    }
  }

  /** `file`: a path relative to the context root, with forward slashes. */
  excludes(file: string): boolean {
    const parts = path.posix.normalize(file).replace(/^\.\//, '').split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of this.patterns) {
      if (candidates.some((c) => p.regex.test(c))) excluded = !p.negate;
    }
    return excluded;
  }

  /** True when some "!" pattern could re-include something below an excluded directory. */
  get hasNegations(): boolean {
    return this.patterns.some((p) => p.negate);
  }
}

/**
 * The files the Docker client sends as the build context: everything under `dir` that .dockerignore does not
 * exclude (symlinks as links, not followed). Excluded directories are not walked unless a "!" pattern exists.
 */
export function contextFiles(dir: string, ignore = DockerIgnore.read(dir)): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const excluded = ignore.excludes(child);
      if (entry.isDirectory()) {
        if (excluded && !ignore.hasNegations) continue;
        walk(child);
      } else if (!excluded) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** Whether a COPY source (relative to the context) names something in the context. */
export function inContext(files: readonly string[], source: string): boolean {
  const clean = path.posix.normalize(source).replace(/^\/+|\/+$/g, '');
  if (clean === '.' || clean === '') return files.length > 0;
  return files.some((f) => f === clean || f.startsWith(clean + '/'));
}
