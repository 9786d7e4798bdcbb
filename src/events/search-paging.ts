// Offset cursors, shared by the SQLite planner (events/sqlite-search.ts) and the hub's PostgreSQL planner
// (hub/pg-search.ts): both page the same way, so a cursor means the same thing whichever store answers.
import type { SearchPageOptions } from '../contract/search.js';
import { InvalidCursorError } from './event-queries.js';

/** The row offset a cursor stands for. */
export function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  try {
    const o = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown }).o;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0 && o < 1e7) return o;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

/** Pages a plan's rows: one more than asked for tells whether there is a next page. */
export function pageOf<T>(rows: T[], options: SearchPageOptions): { events: T[]; next?: string } {
  const offset = decodeCursor(options.cursor);
  const page: { events: T[]; next?: string } = { events: rows.slice(0, options.limit) };
  if (rows.length > options.limit) page.next = Buffer.from(JSON.stringify({ o: offset + options.limit })).toString('base64url');
  return page;
}
