// Wall-clock times in the box's configured time zone, with no library: Intl knows every zone's offsets.

export interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

/** The calendar date `at` falls on in `timeZone`. */
export function localDate(at: Date, timeZone: string): LocalDate {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at).map((p) => [p.type, p.value]),
  );
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
}

export function addDays(d: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** Minutes east of UTC that `timeZone` is at instant `at`. */
function offsetMinutes(at: Date, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

/** The instant of a local wall-clock time (minutes since local midnight, may exceed 24 h). */
export function localInstant(d: LocalDate, minutes: number, timeZone: string): Date {
  const guess = Date.UTC(d.year, d.month - 1, d.day, 0, minutes);
  // Twice: the first pass can land across a DST change from the true instant.
  let t = guess - offsetMinutes(new Date(guess), timeZone) * 60000;
  t = guess - offsetMinutes(new Date(t), timeZone) * 60000;
  return new Date(t);
}

/** ISO 8601 with the zone's offset, e.g. 2026-11-28T14:00:00+08:00. */
export function isoLocal(at: Date, timeZone: string): string {
  const off = offsetMinutes(at, timeZone);
  const local = new Date(at.getTime() + off * 60000);
  const sign = off >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  return `${local.toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
}
