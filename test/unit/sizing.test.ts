// The auto sizing rule for inference workers and threads (measured in docs/operations.md, Sizing).
import { describe, expect, it } from 'vitest';
import { inferenceSizing } from '../../src/detect/sizing.js';

const auto = { workers: 'auto', threads: 'auto' } as const;

describe('inferenceSizing', () => {
  it('gives one camera one session with the spare cores as threads', () => {
    expect(inferenceSizing(auto, 1, 2)).toMatchObject({ workers: 1, threads: 2 });
    expect(inferenceSizing(auto, 1, 4)).toMatchObject({ workers: 1, threads: 4 });
  });

  it('gives busy boxes one single-threaded session per core that decoding leaves', () => {
    expect(inferenceSizing(auto, 8, 2)).toMatchObject({ workers: 2, threads: 1 });
    expect(inferenceSizing(auto, 4, 4)).toMatchObject({ workers: 4, threads: 1 });
    // 16 cameras decode ~1.1 of 2 cores: one session for what is left.
    expect(inferenceSizing(auto, 16, 2)).toMatchObject({ workers: 1, threads: 1 });
    expect(inferenceSizing(auto, 40, 2)).toMatchObject({ workers: 1, threads: 1 });
    expect(inferenceSizing(auto, 12, 32).workers).toBe(8);
  });

  it('keeps what the config sets', () => {
    expect(inferenceSizing({ workers: 3, threads: 2 }, 8, 2)).toEqual({ workers: 3, threads: 2, reason: 'set in the config' });
    expect(inferenceSizing({ workers: 2, threads: 'auto' }, 8, 4)).toMatchObject({ workers: 2, threads: 2 });
    expect(inferenceSizing({ workers: 2, threads: 'auto' }, 8, 2)).toMatchObject({ workers: 2, threads: 1 });
  });
});
