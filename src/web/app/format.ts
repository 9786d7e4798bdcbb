// Times are shown in the box's time zone, not the viewing PC's: an officer compares them with what a
// witness said about that street's clock.
import { lang } from './i18n.js';

let zone = 'UTC';
export function setTimeZone(timeZone: string): void {
  zone = timeZone;
}

const formatter = (options: Intl.DateTimeFormatOptions) =>
  new Intl.DateTimeFormat(lang() === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: zone, hourCycle: 'h23', ...options });

export function clock(iso: string): string {
  return formatter({ hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(iso));
}

export function shortClock(iso: string): string {
  return formatter({ hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

export function day(iso: string): string {
  return formatter({ year: 'numeric', month: 'short', day: 'numeric', weekday: 'short' }).format(new Date(iso));
}

export function dateTime(iso: string): string {
  return `${day(iso)} ${clock(iso)}`;
}

export function duration(fromIso: string, toIso: string): string {
  const s = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

/** Whole minutes from `sinceIso` to `nowIso` (both the box's clock), at least 1: how long a camera has been quiet. */
export function minutesSince(sinceIso: string, nowIso: string): number {
  return Math.max(1, Math.round((Date.parse(nowIso) - Date.parse(sinceIso)) / 60_000));
}

export function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

/** "2026-11-28 14:00" in the box's zone, for the time fields (24-hour, as every time on the page). */
export function toLocalInput(iso: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** The instant "YYYY-MM-DD HH:MM" (or with a T) names in the box's zone, as ISO; undefined if it is not one. */
export function fromLocalInput(value: string): string | undefined {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, hh, mm] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59) return undefined;
  const guess = Date.UTC(y, mo - 1, d, hh, mm);
  let t = guess - offsetMinutes(new Date(guess)) * 60000;
  t = guess - offsetMinutes(new Date(t)) * 60000;
  return new Date(t).toISOString();
}

function offsetMinutes(at: Date): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
  return Math.round((asUtc - Math.floor(at.getTime() / 60000) * 60000) / 60000);
}
