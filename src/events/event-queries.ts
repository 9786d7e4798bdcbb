// What the rest of vigil may ask a store: one event, a page of a search, and the counts the pages show. The
// SQLite store on each box answers it synchronously (store.ts); a station hub's PostgreSQL store
// (hub/pg-store.ts) answers the same questions over the network, so every answer may be a promise and every
// caller awaits it. Search, the API and the page do not know which store they talk to.
import type { SearchFilter, SearchPage, SearchPageOptions } from '../contract/search.js';
import type { StoredEvent } from './store.js';

export type MaybePromise<T> = T | Promise<T>;

export interface EventQueries {
  get(id: number): MaybePromise<StoredEvent | undefined>;
  /** Events matching `filter`, in the page's order; throws InvalidCursorError for a cursor it did not give. */
  searchEvents(filter: SearchFilter, options: SearchPageOptions): MaybePromise<SearchPage<StoredEvent>>;
  /** Events per camera since `sinceMs`. */
  countByCamera(sinceMs: number): MaybePromise<Map<string, number>>;
  /** The camera's latest object event (its start, ms), if it has one. */
  lastObjectAt(camera: string): MaybePromise<number | undefined>;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor: pass back the "next" value of the previous page');
    this.name = 'InvalidCursorError';
  }
}
