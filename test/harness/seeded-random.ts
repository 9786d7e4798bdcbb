// A small seedable PRNG for tests whose randomness must be replayable (chaos schedules, garbage bytes).

/** mulberry32: uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [min, max) from `random`. */
export function between(random: () => number, min: number, max: number): number {
  return min + random() * (max - min);
}

/** The seed a test runs with: VIGIL_SEED if set, else a fresh one (printed by the test so a run can be replayed). */
export function testSeed(): number {
  const fromEnv = process.env.VIGIL_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n)) throw new Error(`VIGIL_SEED must be an integer, got "${fromEnv}"`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
