// The SQLite store's answer to a search filter: one SQL query that the store's indexes answer, walked in time
// order (closest to the asked time, or newest first) and paged with a cursor. Plates match fuzzily: a full
// plate also finds readings one character off (a confusable pair such as 5/S counts as equal), through the
// attribute index; a fragment (贵F8, 12*45) goes through a trigram index. Labels and colours match their
// neighbours too (car also finds truck, white also grey: vocabulary/labels.ts and colours.ts say which and why);
// the search service marks those near matches and ranks them below. Every value reaches SQLite as a parameter.
import type { PlaceKind, SearchFilter, SearchPageOptions } from '../contract/search.js';
import { isPlate } from '../plates/plate-rules.js';
import { plateVariants } from '../plates/plate-variants.js';
import { colourWithNeighbours } from '../vocabulary/colours.js';
import { labelsWithNeighbours } from '../vocabulary/labels.js';
import { decodeCursor } from './search-paging.js';

// The store pages with these; they live in search-paging.ts, shared with the hub's planner.
export { decodeCursor, pageOf } from './search-paging.js';

export interface SearchPlan {
  sql: string;
  params: unknown[];
}

const COLOUR_ATTRIBUTES = { any: ['colour', 'upper_colour', 'lower_colour', 'vehicle_colour'], upper: ['upper_colour'], lower: ['lower_colour'] };
/** Events that began this long before a window and were still going in it are found too. */
const LONGEST_EVENT_MS = 6 * 3600_000;

export function planSearch(filter: SearchFilter, options: SearchPageOptions): SearchPlan {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.kinds.length > 0) {
    where.push(`e.kind IN (${filter.kinds.map(() => '?').join(', ')})`);
    params.push(...filter.kinds);
  }
  if (filter.labels.length > 0) {
    // Only object and plate events have labels, so the label alone picks them, on the (label, start) index.
    const labels = labelsWithNeighbours(filter.labels);
    where.push(`e.label IN (${labels.map(() => '?').join(', ')})`);
    params.push(...labels);
  }
  const placeClauses: string[] = [];
  const byKind = (kind: PlaceKind) => filter.places.filter((p) => p.kind === kind);
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
    // every white thing first; the walk in time order stops at the page's end. The probe goes by event
    // (`+a.value` keeps SQLite off the (name, value, event_id) key, which for a colour and its neighbour on
    // four attributes is eight seeks per event instead of one; the bench's "white car" took three times as long).
    const names = COLOUR_ATTRIBUTES[c.part];
    const colours = colourWithNeighbours(c.colour);
    where.push(`EXISTS (SELECT 1 FROM event_attributes a WHERE a.event_id = e.id AND a.name IN (${names.map(() => '?').join(', ')}) AND +a.value IN (${colours.map(() => '?').join(', ')}))`);
    params.push(...names, ...colours);
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
