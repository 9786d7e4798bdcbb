// Turns a parsed filter into one SQL query that the store's indexes answer, ranks the events by closeness
// to the asked time (then score), and pages through them with a cursor. Plates match fuzzily: a full plate
// also finds readings one character off (a confusable pair such as 5/S counts as equal), through the
// attribute index; a fragment (贵F8, 12*45) goes through a trigram index.
import type Database from 'better-sqlite3';
import type { VigilConfig } from '../config/schema.js';
import { BODY, CITY_LETTERS, CONFUSABLE, isPlate, PROVINCES, SUFFIXES } from '../plates/plate-rules.js';
import type { StoredEvent } from '../events/store.js';
import type { Place, SearchFilter } from './query-parser.js';

export interface SearchOptions {
  limit: number;
  cursor?: string | undefined;
  /** closest: nearest the middle of the asked time first (words: "14:00"); newest: latest first (listings). */
  order?: 'closest' | 'newest';
}

export interface SearchPlan {
  sql: string;
  params: unknown[];
}

export interface SearchPage<T> {
  events: T[];
  /** Pass back to get the next page; absent on the last page. */
  next?: string;
}

const COLOUR_ATTRIBUTES = { any: ['colour', 'upper_colour', 'lower_colour', 'vehicle_colour'], upper: ['upper_colour'], lower: ['lower_colour'] };
/** Events that began this long before a window and were still going in it are found too. */
const LONGEST_EVENT_MS = 6 * 3600_000;

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

export function planSearch(filter: SearchFilter, options: SearchOptions): SearchPlan {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.kinds.length > 0) {
    where.push(`e.kind IN (${filter.kinds.map(() => '?').join(', ')})`);
    params.push(...filter.kinds);
  }
  if (filter.labels.length > 0) {
    // Only object and plate events have labels, so the label alone picks them, on the (label, start) index.
    where.push(`e.label IN (${filter.labels.map(() => '?').join(', ')})`);
    params.push(...filter.labels);
  }
  const placeClauses: string[] = [];
  const byKind = (kind: Place['kind']) => filter.places.filter((p) => p.kind === kind);
  if (byKind('location').length) {
    placeClauses.push(`e.location IN (${byKind('location').map(() => '?').join(', ')})`);
    params.push(...byKind('location').map((p) => p.name));
  }
  if (byKind('camera').length) {
    placeClauses.push(`e.camera IN (${byKind('camera').map(() => '?').join(', ')})`);
    params.push(...byKind('camera').map((p) => p.name));
  }
  for (const zone of byKind('zone')) {
    placeClauses.push('(e.camera = ? AND EXISTS (SELECT 1 FROM event_zones z WHERE z.zone = ? AND z.event_id = e.id))');
    params.push(zone.camera, zone.name);
  }
  if (placeClauses.length) where.push(`(${placeClauses.join(' OR ')})`);
  for (const c of filter.colours) {
    // Colours are common (a quarter of cars are white): probe each candidate event rather than collect
    // every white thing first; the walk in time order stops at the page's end.
    const names = COLOUR_ATTRIBUTES[c.part];
    where.push(`EXISTS (SELECT 1 FROM event_attributes a WHERE a.event_id = e.id AND a.name IN (${names.map(() => '?').join(', ')}) AND a.value = ?)`);
    params.push(...names, c.colour);
  }
  if (filter.plate) {
    const plate = filter.plate;
    if (!/[*?]/.test(plate) && isPlate(plate)) {
      const variants = plateVariants(plate);
      where.push(`e.id IN (SELECT event_id FROM event_attributes WHERE name = 'plate' AND value IN (${variants.map(() => '?').join(', ')}))`);
      params.push(...variants);
    } else {
      // A fragment matches anywhere in the plate; * and ? are wildcards.
      const glob = `*${plate.replace(/^\*+|\*+$/g, '')}*`;
      where.push('e.id IN (SELECT rowid FROM plate_text WHERE text GLOB ?)');
      params.push(glob);
    }
  }
  let order = 'e.start_ms DESC, e.id DESC';
  if (filter.time) {
    const from = Date.parse(filter.time.from);
    const to = Date.parse(filter.time.to);
    where.push('e.start_ms >= ? AND e.start_ms < ? AND COALESCE(e.end_ms, e.start_ms) >= ?');
    params.push(from - LONGEST_EVENT_MS, to, from);
    // Closest to the moment asked for first ("14:00" means about then); a day or a span, newest first,
    // which the (…, start) indexes give in order without sorting every match.
    const around = filter.time.around ? Date.parse(filter.time.around) : undefined;
    if (around !== undefined && options.order !== 'newest') order = `ABS(e.start_ms - ${around}) ASC, e.score DESC, e.id DESC`;
  }
  const offset = decodeCursor(options.cursor);
  const sql = `SELECT e.* FROM events e${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ? OFFSET ?`;
  params.push(options.limit + 1, offset);
  return { sql, params };
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

export function runSearch<T>(db: Database.Database, filter: SearchFilter, options: SearchOptions, map: (row: unknown) => T): SearchPage<T> {
  const plan = planSearch(filter, options);
  const rows = db.prepare(plan.sql).all(...plan.params);
  const offset = decodeCursor(options.cursor);
  const page: SearchPage<T> = { events: rows.slice(0, options.limit).map(map) };
  if (rows.length > options.limit) page.next = Buffer.from(JSON.stringify({ o: offset + options.limit })).toString('base64url');
  return page;
}

function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  try {
    const o = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown }).o;
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0 && o < 1e7) return o;
  } catch {
    // fall through
  }
  throw new Error('invalid cursor: pass back the "next" value of the previous page');
}

/**
 * Every plate within one edit of `plate` (substitution, deletion, insertion of a plate character), with
 * confusable characters substituted for free: what a reading of the same car could say.
 */
export function plateVariants(plate: string): string[] {
  const chars = [...plate];
  const out = new Set<string>([plate]);
  const alphabet = (i: number) => (i === 0 ? PROVINCES : i === 1 ? CITY_LETTERS : BODY + SUFFIXES);
  for (let i = 0; i < chars.length; i++) {
    for (const c of alphabet(i)) out.add([...chars.slice(0, i), c, ...chars.slice(i + 1)].join(''));
    out.add([...chars.slice(0, i), ...chars.slice(i + 1)].join(''));
  }
  for (let i = 2; i <= chars.length; i++) for (const c of BODY) out.add([...chars.slice(0, i), c, ...chars.slice(i)].join(''));
  // Confusables on top of one real error: 贵F12345 also finds 贵F1234S with another character misread.
  for (const v of [...out]) {
    const vc = [...v];
    vc.forEach((c, i) => {
      for (const alt of CONFUSABLE[c] ?? '') {
        const swapped = [...vc];
        swapped[i] = alt;
        out.add(swapped.join(''));
      }
    });
  }
  return [...out];
}
