// Search's knowledge of the site and of matches: the places officers can name (from the config) and what the
// page calls them, and which conditions an event meets only approximately. The queries themselves belong to
// the store (events/sqlite-search.ts).
import type { VigilConfig } from '../config/schema.js';
import { isPlate } from '../plates/plate-rules.js';
import type { StoredEvent } from '../events/store.js';
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

/**
 * Which of the filter's conditions the event meets only approximately, for the page to say so: `plate`
 * when its reading differs from the plate asked for (one character off, or a confusable pair such as 5/S).
 */
export function nearMatches(event: StoredEvent, filter: SearchFilter): string[] {
  const near: string[] = [];
  const text = (event.attributes.plate as { text?: unknown } | undefined)?.text;
  if (filter.plate && !/[*?]/.test(filter.plate) && isPlate(filter.plate) && typeof text === 'string' && text !== filter.plate) near.push('plate');
  return near;
}

