// Free space on the disk under a folder, as recording's pause and retention's budget both judge it.
import { statfsSync } from 'node:fs';

/** Bytes an unprivileged writer may still use on the disk holding `dir`; Infinity when it cannot be told. */
export function freeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return Infinity;
  }
}
