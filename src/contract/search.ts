// What a search is, as the parser makes it, the stores answer it, the API accepts and returns it and the page
// edits it: declared once, here. Pure types and constant lists, no runtime dependency, so that the page's
// build can read them too.
import type { ColourName } from '../vocabulary/colours.js';

export const EVENT_KINDS = ['motion', 'object', 'plate'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const PLACE_KINDS = ['camera', 'location', 'zone'] as const;
export type PlaceKind = (typeof PLACE_KINDS)[number];

export interface SearchFilter {
  /** Which kinds of event: motion only, plate readings only; empty means any. */
  kinds: EventKind[];
  labels: string[];
  colours: Array<{ colour: ColourName; part: 'any' | 'upper' | 'lower' }>;
  places: Array<{ kind: PlaceKind; name: string; camera?: string }>;
  /**
   * ISO 8601 local times; `from` inclusive, `to` exclusive. `around` is the moment asked for when the query
   * named a clock time ("14:00"): results are ranked by closeness to it; otherwise newest first.
   */
  time: { from: string; to: string; around?: string } | null;
  /** Plate text with * for any run of characters and ? for one, separators removed, e.g. 贵F*123*. */
  plate: string | null;
  unknown: string[];
}

export interface SearchPageOptions {
  limit: number;
  cursor?: string | undefined;
  /** closest: nearest the middle of the asked time first (words: "14:00"); newest: latest first (listings). */
  order?: 'closest' | 'newest';
}

export interface SearchPage<T> {
  events: T[];
  /** Pass back to get the next page; absent on the last page. */
  next?: string;
}
