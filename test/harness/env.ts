// Test knobs from environment variables (durations, counts), validated so a typo fails loudly instead of
// silently running the default.

/** A number from `name`, or `fallback` when unset or empty; throws naming the variable when it is not a number >= min. */
export function envNumber(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return value;
}
