// jemalloc's heap profiles, read without jeprof: which library holds the daemon's native memory. With
// `prof:true,lg_prof_interval:N` jemalloc samples about one allocation per 512 KB allocated (lg_prof_sample 19),
// remembers its call stack while it is held, and writes what is held (heap_v2 format) every 2^N bytes allocated.
// Each held sample is charged to the library of its first frame outside the allocator and the C and C++
// runtimes, so memory onnxruntime, SQLite or libvips keep shows under their names. Frames in the node binary are
// Node's own and the ArrayBuffers it allocates for JS and addons (frames, tensors, file reads): garbage until V8
// collects them, so that group swings by tens of MB between collections.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** MALLOC_CONF entries for heap profiles written to `dir` every 2^lgInterval bytes allocated. */
export function jemallocProfileConf(dir: string, lgInterval: number): string {
  return `prof:true,prof_prefix:${path.join(dir, 'vigil')},lg_prof_interval:${lgInterval}`;
}

export interface HeapProfile {
  file: string;
  /** When it was written (the file's mtime). */
  at: number;
  /** Estimated bytes held, by library (file name), 'node' for the node binary's own frames. */
  byLibrary: Map<string, number>;
}

/** The C/C++ runtime and the allocator: never the owner of what they allocate. */
const RUNTIME = /^(libjemalloc|libc\.so|libc-|libstdc\+\+|libgcc_s|ld-linux)/;

/** Parses one heap_v2 profile. Throws, naming the file, on anything else. */
export function readHeapProfile(file: string): HeapProfile {
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = /^heap_v2\/(\d+)$/.exec(lines[0] ?? '');
  if (!header) throw new Error(`${file}: not a jemalloc heap_v2 profile (first line ${JSON.stringify(lines[0])})`);
  const rate = Number(header[1]);
  const stacks: Array<{ addresses: bigint[]; bytes: number }> = [];
  const maps: Array<{ low: bigint; high: bigint; library: string }> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('@')) {
      const counts = /^\s*t\*: (\d+): (\d+)/.exec(lines[i + 1] ?? '');
      if (!counts) throw new Error(`${file}:${i + 2}: a stack without its counts`);
      const objects = Number(counts[1]), bytes = Number(counts[2]);
      // jemalloc samples an allocation of s bytes with probability 1 - exp(-s / rate): scaled back as jeprof does.
      if (objects > 0) stacks.push({ addresses: line.slice(1).trim().split(/\s+/).map((a) => BigInt(a)), bytes: bytes / (1 - Math.exp(-bytes / objects / rate)) });
      i++;
    } else if (line.startsWith('MAPPED_LIBRARIES')) {
      for (const m of lines.slice(i + 1)) {
        const [range, perms, , , , name] = m.trim().split(/\s+/);
        if (!range || !perms?.includes('x') || !name) continue;
        const [low, high] = range.split('-').map((h) => BigInt(`0x${h}`));
        maps.push({ low: low!, high: high!, library: path.basename(name) });
      }
      break;
    }
  }
  if (maps.length === 0) throw new Error(`${file}: no MAPPED_LIBRARIES section (a profile cut short?)`);
  const libraryOf = (address: bigint) => maps.find((m) => address >= m.low && address < m.high)?.library ?? '?';
  const byLibrary = new Map<string, number>();
  for (const { addresses, bytes } of stacks) {
    const owner = addresses.map(libraryOf).find((l) => !RUNTIME.test(l)) ?? '?';
    const name = owner === 'node' || owner.startsWith('node.') ? 'node' : owner;
    byLibrary.set(name, (byLibrary.get(name) ?? 0) + bytes);
  }
  return { file, at: statSync(file).mtimeMs, byLibrary };
}

/** Every profile jemalloc wrote under `dir`, oldest first. */
export function readHeapProfiles(dir: string): HeapProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.heap'))
    .map((f) => readHeapProfile(path.join(dir, f)))
    .sort((a, b) => a.at - b.at);
}

/**
 * How much each library's held memory grew from the first third of `profiles` to the last: the least held in
 * each third, so a profile written while a library held scratch memory for a moment does not count.
 */
export function heldGrowth(profiles: readonly HeapProfile[]): Map<string, { first: number; last: number; growth: number }> {
  const third = Math.max(1, Math.floor(profiles.length / 3));
  const early = profiles.slice(0, third), late = profiles.slice(-third);
  const libraries = new Set(profiles.flatMap((p) => [...p.byLibrary.keys()]));
  const least = (ps: readonly HeapProfile[], library: string) => Math.min(...ps.map((p) => p.byLibrary.get(library) ?? 0));
  return new Map([...libraries].map((library) => {
    const first = least(early, library), last = least(late, library);
    return [library, { first, last, growth: last - first }];
  }));
}
