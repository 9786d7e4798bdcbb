// Which malloc this process runs on. On glibc's, vigil's native memory (libvips, onnxruntime, a few dozen
// threads) sits higher and creeps up; vigil is tested and sized on jemalloc (docs/operations.md, "Memory"). bin/vigil
// preloads jemalloc when the box has it; the daemon says which one it got, in its start line and in
// vigil_info, so a box that was started some other way (node dist/src/cli.js, a hand-written unit) is seen.
import { readFileSync } from 'node:fs';

export type Allocator = 'jemalloc' | 'system';

/**
 * Read from the process's own mappings rather than LD_PRELOAD: the variable may name a library that is
 * missing (the loader then warns and goes on without it), and jemalloc may be linked in some other way.
 */
export function memoryAllocator(maps: string = readMaps()): Allocator {
  return /\/libjemalloc[^/\s]*\.so/.test(maps) ? 'jemalloc' : 'system';
}

function readMaps(): string {
  try {
    return readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return ''; // not Linux: the system allocator is all there is
  }
}
