// What the rest of vigil may ask a store: one event, a page of a search, and the counts the pages show. The
// SQLite store on each box answers it (store.ts); a station hub's PostgreSQL store will answer the same
// questions, so search, the API and the page do not know which one they talk to.
import type { SearchFilter, SearchPage, SearchPageOptions } from '../contract/search.js';
import type { StoredEvent } from './store.js';

export interface EventQueries {
  get(id: number): StoredEvent | undefined;
  /** Events matching `filter`, in the page's order; throws InvalidCursorError for a cursor it did not give. */
  searchEvents(filter: SearchFilter, options: SearchPageOptions): SearchPage<StoredEvent>;
  /** Events per camera since `sinceMs`. */
  countByCamera(sinceMs: number): Map<string, number>;
  /** The camera's latest object event (its start, ms), if it has one. */
  lastObjectAt(camera: string): number | undefined;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor: pass back the "next" value of the previous page');
    this.name = 'InvalidCursorError';
  }
}
