// A temporary directory for one test's config and data: removed when the test passes, kept (and its path
// printed) when it fails, so a failed long run can be looked into.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

export function testDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onTestFinished(({ task }) => {
    if (task.result?.state === 'pass') rmSync(dir, { recursive: true, force: true });
    else console.log(`the test's config, store and snapshots are kept in ${dir}`);
  });
  return dir;
}
