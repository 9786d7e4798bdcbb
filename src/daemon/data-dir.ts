// data_dir holds evidence and secrets: the folder and everything vigil writes in it are for vigil's user only.
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Events, snapshots, the audit log and the token are evidence and secrets: only vigil's own user may read
 * them, whatever umask it was started with (systemd sets 0077, a shell usually 0022). Everything created from
 * here on gets 0600/0700; what an older version left is tightened at the top, where closing the folder is
 * enough to close everything below it.
 */
export function protectDataDir(dataDir: string): void {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    chmodSync(path.join(dataDir, entry.name), entry.isDirectory() ? 0o700 : 0o600);
  }
}
