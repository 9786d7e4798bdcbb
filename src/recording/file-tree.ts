// The files under a folder, at any depth (a missing folder has none): what the start-up sweeps and the
// exports' expiry walk.
import { readdirSync } from 'node:fs';
import path from 'node:path';

export function* filesUnder(root: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else if (entry.isFile()) yield full;
  }
}
