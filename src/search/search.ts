// Search's knowledge of the site and of matches: the places officers can name (from the config) and what the
// page calls them, and which conditions an event meets only approximately. The queries themselves belong to
// the store (events/sqlite-search.ts).
import type { VigilConfig } from '../config/schema.js';
import { isPlate } from '../plates/plate-rules.js';
import type { StoredEvent } from '../events/store.js';
import { COLOUR_NEIGHBOURS, type ColourName } from '../vocabulary/colours.js';
import { isVehicle, LABEL_NEIGHBOURS, labelsWithNeighbours } from '../vocabulary/labels.js';
import type { Place, SearchFilter } from './query-parser.js';

/**
 * What search and the page read from the config, derived at start and again at each reload (never edited in
 * place): the places officers name and what the page calls them, the time zone they speak in, how wide a
 * bare time is, and when a camera counts as quiet.
 */
export interface SiteSettings {
  timeZone: string;
  places: Place[];
  placeNames: Record<string, { en?: string; zh?: string }>;
  windowMinutes: number;
  quietCameraMinutes: number;
}

export function siteSettings(config: VigilConfig): SiteSettings {
  return {
    timeZone: config.time_zone,
    places: placesFromConfig(config),
    placeNames: placeNamesFromConfig(config),
    windowMinutes: config.search.window_minutes,
    quietCameraMinutes: config.search.quiet_camera_minutes,
  };
}

/** The places officers can name, from the config: cameras, locations and zones, with their aliases. */
export function placesFromConfig(config: VigilConfig): Place[] {
  const places: Place[] = [];
  const locations = new Map<string, Set<string>>();
  for (const c of config.cameras) {
    places.push({ kind: 'camera', name: c.name, terms: [c.name] });
    const terms = locations.get(c.location) ?? new Set([c.location]);
    // A place's display names are names officers say too.
    for (const a of [...c.aliases, ...Object.values(c.location_names)]) terms.add(a);
    locations.set(c.location, terms);
    for (const z of c.zones) places.push({ kind: 'zone', name: z.name, camera: c.name, terms: [...new Set([z.name, ...z.aliases, ...Object.values(z.names)])] });
  }
  for (const [name, terms] of locations) places.push({ kind: 'location', name, terms: [...terms] });
  // Officers say "school" for "school gate": each word of a many-word name is a term too, unless another
  // place uses it as well.
  const words = new Map<string, Place[]>();
  for (const p of places) for (const w of p.name.toLowerCase().split(/\s+/)) if (p.name.includes(' ') && w.length >= 3) words.set(w, [...(words.get(w) ?? []), p]);
  for (const [word, owners] of words) if (owners.length === 1 && !places.some((p) => p.terms.includes(word))) owners[0]!.terms.push(word);
  return places;
}

/** What the page calls each location and zone in each language, where the config names them. */
export function placeNamesFromConfig(config: VigilConfig): Record<string, { en?: string; zh?: string }> {
  const names: Record<string, { en?: string; zh?: string }> = {};
  for (const c of config.cameras) {
    if (Object.keys(c.location_names).length) names[c.location] = { ...names[c.location], ...c.location_names };
    for (const z of c.zones) if (Object.keys(z.names).length) names[z.name] = { ...names[z.name], ...z.names };
  }
  return names;
}

/** Why a card is only a near match (the API's and the page's `near_match` words). */
export type NearMatchReason = 'plate' | 'label' | 'colour' | 'rider-colour';

/** A vehicle's own colour: an object event's `colour`, a plate event's `vehicle_colour`. */
const OWN_COLOUR_ATTRIBUTES = ['colour', 'vehicle_colour'] as const;
/** What someone wears: a person's own colours, but on a (ridden) vehicle its rider's, not the vehicle's. */
const CLOTHING_ATTRIBUTES = ['upper_colour', 'lower_colour'] as const;
/** Where a colour asked for with a part is read (as the store reads it). */
const PART_ATTRIBUTES = { any: [...OWN_COLOUR_ATTRIBUTES, ...CLOTHING_ATTRIBUTES], upper: ['upper_colour'], lower: ['lower_colour'] } as const;

/**
 * Which of the filter's conditions the event meets only approximately, for the page to say so and for the
 * search to rank it below the exact matches of its page:
 *  - `plate` when its reading differs from the plate asked for (one character off, or a confusable pair such
 *    as 5/S);
 *  - `label` when its label is only a neighbour of the ones asked for (a car asked for, a truck found:
 *    LABEL_NEIGHBOURS);
 *  - `colour` when a colour asked for is met only by a neighbour (white asked for, grey read: COLOUR_NEIGHBOURS);
 *  - `rider-colour` when a colour asked for without a part ("red motorbike") is, on a vehicle, only its
 *    rider's clothing (`upper_colour`/`lower_colour`), not its own colour. For a person the clothing is the
 *    exact match.
 * A colour counts as the store counts it: the reading or its runner-up (`alternative`). On a vehicle, a
 * neighbour of its own colour counts before its rider's exact colour (for "grey motorbike", a bike read white
 * is likelier the one seen than a red bike whose rider wears grey); a rider's neighbour colour is both.
 */
export function nearMatches(event: StoredEvent, filter: SearchFilter): NearMatchReason[] {
  const near = new Set<NearMatchReason>();
  const text = (event.attributes.plate as { text?: unknown } | undefined)?.text;
  if (filter.plate && !/[*?]/.test(filter.plate) && isPlate(filter.plate) && typeof text === 'string' && text !== filter.plate) near.add('plate');
  if (event.label !== null && !filter.labels.includes(event.label) && labelsWithNeighbours(filter.labels).includes(event.label)) near.add('label');
  const vehicle = event.label !== null && isVehicle(event.label);
  for (const c of filter.colours) {
    const exact = (names: readonly string[]) => names.some((name) => hasColour(event, name, [c.colour]));
    const neighbour = (names: readonly string[]) => names.some((name) => hasColour(event, name, COLOUR_NEIGHBOURS[c.colour] ?? []));
    if (vehicle && c.part === 'any') {
      if (exact(OWN_COLOUR_ATTRIBUTES)) continue;
      if (neighbour(OWN_COLOUR_ATTRIBUTES)) near.add('colour');
      else if (exact(CLOTHING_ATTRIBUTES)) near.add('rider-colour');
      else if (neighbour(CLOTHING_ATTRIBUTES)) near.add('rider-colour').add('colour');
    } else if (!exact(PART_ATTRIBUTES[c.part]) && neighbour(PART_ATTRIBUTES[c.part])) near.add('colour');
  }
  // In a fixed order, whatever the order found in.
  return (['plate', 'label', 'colour', 'rider-colour'] as const).filter((r) => near.has(r));
}

/** Whether the event's colour attribute `name` reads one of `colours`, as the store indexes it (reading or runner-up). */
function hasColour(event: StoredEvent, name: string, colours: readonly string[]): boolean {
  const value = event.attributes[name];
  if (!value || typeof value !== 'object') return false;
  const { colour: reading, alternative } = value as { colour?: unknown; alternative?: unknown };
  return colours.some((c) => reading === c || alternative === c);
}

/**
 * Cards in the order an officer reads them: exact matches first, then near matches off in one way (a truck for
 * "white car"), then in two (a grey truck), each in the order given (the page's time order and likelihood).
 * Within one page only, as the ranking of result-groups.ts is.
 */
export function exactMatchesFirst<T extends { nearMatch: readonly string[] }>(hits: readonly T[]): T[] {
  // A stable sort: within each count of reasons, the order given.
  return [...hits].sort((a, b) => a.nearMatch.length - b.nearMatch.length);
}

/** What `--explain` calls a neighbour label, as the witness would say it. */
const LABEL_WORDS: Record<string, string> = { car: 'cars', truck: 'trucks (SUVs, pickups, vans)' };
/** What `--explain` calls a neighbour colour: vigil reads silver as grey, and dark blue as black or blue. */
const COLOUR_WORDS: Partial<Record<ColourName, string>> = { grey: 'grey/silver', blue: 'blue (dark blue)', black: 'black (dark blue read as black)' };

/**
 * What the filter's near matches are, for `vigil search --explain` and anyone else who says it in words: the
 * neighbour labels and colours also found (explainNeighbours), then how a colour is matched on vehicles
 * (explainColourMatches).
 */
export function explainNearMatches(filter: SearchFilter): string[] {
  return [...explainNeighbours(filter), ...explainColourMatches(filter)];
}

/**
 * One line per label or colour asked for whose neighbours are found too, as near matches ranked below, e.g.
 * `car: also trucks (SUVs, pickups, vans), as near matches ranked below`; none for a neighbour asked for itself.
 */
export function explainNeighbours(filter: SearchFilter): string[] {
  const lines: string[] = [];
  for (const label of filter.labels) {
    const also = (LABEL_NEIGHBOURS[label] ?? []).filter((n) => !filter.labels.includes(n));
    if (also.length) lines.push(`${label}: also ${also.map((n) => LABEL_WORDS[n] ?? n).join(', ')}, as near matches ranked below`);
  }
  for (const colour of new Set(filter.colours.map((c) => c.colour))) {
    const also = COLOUR_NEIGHBOURS[colour] ?? [];
    if (also.length) lines.push(`${colour}: also ${also.map((n) => COLOUR_WORDS[n] ?? n).join(', ')}, as a near match ranked below`);
  }
  return lines;
}

/**
 * What the filter's colours mean, for `vigil search --explain` and anyone else who says it in words: a colour
 * with no part on vehicles is the vehicle's own colour, its rider's clothing only a near match ranked below.
 * One line per such colour; none when the filter asks for no vehicle.
 */
export function explainColourMatches(filter: SearchFilter): string[] {
  const vehicles = filter.labels.length === 0 || filter.labels.some(isVehicle);
  const motionOnly = filter.kinds.length > 0 && filter.kinds.every((k) => k === 'motion');
  if (!vehicles || motionOnly) return [];
  const onlyVehicles = filter.labels.length > 0 && filter.labels.every(isVehicle);
  return filter.colours.filter((c) => c.part === 'any').map((c) => onlyVehicles
    ? `${c.colour}: the vehicle's own colour; its rider's clothing as a near match (ranked below)`
    : `${c.colour}: a vehicle's own colour (its rider's clothing as a near match, ranked below), or a person's clothing`);
}
