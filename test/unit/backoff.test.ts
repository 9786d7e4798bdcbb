import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/ingest/backoff.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const top = new Backoff({ initialMs: 1000, maxMs: 30_000, random: () => 1 });
    expect(Array.from({ length: 8 }, () => top.next())).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    top.reset();
    expect(top.next()).toBe(1000);
  });

  it('spreads each delay over the upper half of its ceiling (jitter)', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 30_000, random: () => 0 });
    expect(Array.from({ length: 7 }, () => low.next())).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
    const real = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    const delays = Array.from({ length: 50 }, () => real.next()).slice(10);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(15_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000);
    expect(new Set(delays).size).toBeGreaterThan(5);
  });
});
