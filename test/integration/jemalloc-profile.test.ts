// The soak's reader of jemalloc heap profiles (test/harness/jemalloc-profile.ts), on a real profile: a node
// process on Debian's jemalloc (the test setup installs libjemalloc2) holds a known amount of SQLite page cache
// (better-sqlite3, a native addon like onnxruntime's) and of Buffers, and jemalloc writes what is held every 16 MB
// allocated (at exit Node has already freed it all).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';
import { heldGrowth, readHeapProfiles, type HeapProfile } from '../harness/jemalloc-profile.js';
import { MB } from '../harness/daemon-probe.js';

const JEMALLOC = `/usr/lib/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-jeprof-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` on jemalloc with heap profiling, a profile written every 16 MB allocated; returns what it printed. */
function profiled(script: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LD_PRELOAD: JEMALLOC, MALLOC_CONF: `prof:true,lg_prof_interval:24,prof_prefix:${path.join(dir, 'probe')}` },
    encoding: 'utf8',
  });
}

describe('jemalloc heap profiles', () => {
  it("charges what SQLite holds to better-sqlite3's library and Buffers to node, within the sampling's error", () => {
    const out = profiled(`
      import Database from 'better-sqlite3';
      const db = new Database(':memory:');
      db.pragma('cache_size = -200000');
      db.exec('CREATE TABLE t (b BLOB)');
      const insert = db.prepare('INSERT INTO t VALUES (randomblob(1000))');
      db.transaction(() => { for (let i = 0; i < 40000; i++) insert.run(); })();
      const bytes = db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true });
      globalThis.kept = Array.from({ length: 60 }, () => Buffer.alloc(1 << 20, 1));
      // Scratch allocation after it, so that jemalloc writes profiles while the rest is held.
      for (let i = 0; i < 4; i++) globalThis.scratch = Buffer.alloc(1 << 23, 2);
      console.log(bytes);
    `);
    const sqliteBytes = Number(out.trim());
    expect(sqliteBytes).toBeGreaterThan(35 * MB);
    const profile = readHeapProfiles(dir).at(-1);
    expect(profile, `a heap profile in ${dir}`).toBeDefined();
    const sqlite = profile!.byLibrary.get('better_sqlite3.node') ?? 0;
    // An in-memory database lives in SQLite's page cache: a page and its header take jemalloc's 5 KB size
    // class, so ~1.25x its pages. Estimated from ~1 in 100 of them sampled: ±10% (sd).
    expect(sqlite / sqliteBytes).toBeGreaterThan(0.8);
    expect(sqlite / sqliteBytes).toBeLessThan(1.7);
    // 60 MB of Buffers held (±3 MB sd), besides Node's own and scratch buffers not yet collected.
    expect(profile!.byLibrary.get('node') ?? 0).toBeGreaterThan(45 * MB);
    expect([...profile!.byLibrary.keys()].filter((l) => /^lib(jemalloc|c\.so|stdc)/.test(l))).toEqual([]);
  });

  it("measures growth between the least held in the first and the last third, not a moment's scratch", () => {
    const p = (at: number, onnx: number, sqlite: number): HeapProfile => ({ file: `${at}.heap`, at, byLibrary: new Map([['libonnxruntime.so.1', onnx * MB], ['better_sqlite3.node', sqlite * MB]]) });
    // onnxruntime flat with two moments of scratch; SQLite growing by 1 MB per profile.
    const growth = heldGrowth([p(0, 98, 1), p(1, 105, 2), p(2, 98, 3), p(3, 98, 4), p(4, 107, 5), p(5, 98, 6)]);
    expect(growth.get('libonnxruntime.so.1')!.growth).toBe(0);
    expect(growth.get('better_sqlite3.node')).toEqual({ first: 1 * MB, last: 5 * MB, growth: 4 * MB });
  });
});
