// The runtime lists that go with the search types of types.d.ts (the API validates against them), checked
// against those types so that the two cannot drift.
import type { EventKind, PlaceKind } from './types.js';

export type { EventKind, PlaceKind, SearchFilter, SearchPage, SearchPageOptions } from './types.js';

export const EVENT_KINDS = ['motion', 'object', 'plate'] as const satisfies readonly EventKind[];
export const PLACE_KINDS = ['camera', 'location', 'zone'] as const satisfies readonly PlaceKind[];
// Every kind the type allows is listed (a compile error otherwise).
const EVERY_KIND: Exclude<EventKind, (typeof EVENT_KINDS)[number]> | Exclude<PlaceKind, (typeof PLACE_KINDS)[number]> extends never ? true : never = true;
void EVERY_KIND;
