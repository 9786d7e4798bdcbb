import { describe, expect, it } from 'vitest';
import { memoryAllocator } from '../../src/allocator.js';

// Lines as /proc/PID/maps prints them (Debian 12, x86_64).
const GLIBC = `55d0c8a00000-55d0c8c00000 r--p 00000000 08:01 1835 /usr/bin/node
7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0
7f3a1e1c0000-7f3a1e1e6000 r--p 00000000 08:01 2211 /usr/lib/x86_64-linux-gnu/libc.so.6
7f3a1e400000-7f3a1e49c000 r-xp 00000000 08:01 3021 /opt/vigil/node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.8.17.3
`;
const JEMALLOC = GLIBC + '7f3a1e600000-7f3a1e63a000 r-xp 00009000 08:01 2290 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n';

describe('memoryAllocator', () => {
  it('finds jemalloc among the mapped libraries', () => {
    expect(memoryAllocator(JEMALLOC)).toBe('jemalloc');
    expect(memoryAllocator(GLIBC.replace('/usr/bin/node', '/usr/local/lib/libjemalloc.so'))).toBe('jemalloc');
  });

  it('is the system allocator otherwise, also when only a path mentions jemalloc', () => {
    expect(memoryAllocator(GLIBC)).toBe('system');
    expect(memoryAllocator(GLIBC.replace('/usr/bin/node', '/home/me/jemalloc-notes/node'))).toBe('system');
    expect(memoryAllocator('')).toBe('system');
  });
});
