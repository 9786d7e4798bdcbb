// The hub's answer to a search filter, in PostgreSQL: the same events in the same order as the box's SQLite
// planner (events/sqlite-search.ts) gives for the same events, so an officer gets the same answer at the hub
// as at the box. Where the two databases differ, this file says how it makes them agree:
// - SQLite sorts NULL lowest, so `score DESC` puts events without a score last; PostgreSQL puts NULL first
//   unless told `NULLS LAST`.
// - The box breaks ties by its own id (`e.id DESC`); here that is box_id, then box_name (events of two boxes).
// - A colour is a 'name:value' element of the tags array (GIN) instead of an event_attributes row.
// - A full plate is its reading (plate_text) or runner-up (plate_alt) equal to one of its variants, looked up in
//   the event_plates table (one btree, kept by triggers), then each event by its key: `tags && [1,736 variants]`
//   looked like almost every event and walked all of them in time order (over 60 s at 10M events), and the same
//   probes in every monthly partition's index took 242 ms (docs/internals.md).
// - Several labels (car asks for truck too) are one ordered scan per label, merged: PostgreSQL 15 cannot read
//   the (location, label, start) index in time order for two labels at once, and filtered the time index
//   instead (330 ms for "yellow taxi 夜市" at 10M events).
// - A fragment is SQLite's case-sensitive GLOB (* any run, ? one character) turned into LIKE on plate_text
//   (trigram GIN); %, _ and \ are escaped so they match themselves as they do in GLOB.
// Every value is a query parameter; the `around` instant is spliced into ORDER BY as SQLite's planner does,
// only after checking it is an integer.
import type { PlaceKind, SearchFilter, SearchPageOptions } from '../contract/search.js';
import { decodeCursor } from '../events/search-paging.js';
import { isPlate } from '../plates/plate-rules.js';
import { plateVariants } from '../plates/plate-variants.js';
import { colourWithNeighbours } from '../vocabulary/colours.js';
import { labelsWithNeighbours } from '../vocabulary/labels.js';

export interface PgSearchPlan {
  sql: string;
  params: unknown[];
}

/** The same as sqlite-search.ts's: the four attributes a colour may be read on, per part. */
const COLOUR_ATTRIBUTES = { any: ['colour', 'upper_colour', 'lower_colour', 'vehicle_colour'], upper: ['upper_colour'], lower: ['lower_colour'] };
/** The same as sqlite-search.ts's: events that began this long before a window and were still going in it are found too. */
const LONGEST_EVENT_MS = 6 * 3600_000;

/** The columns a StoredEvent is read from (pg-store.ts eventFromPgRow). */
export const EVENT_COLUMNS =
  'e.id, e.box_name, e.box_id, e.seq, e.kind, e.camera, e.location, e.label, e.score, e.start_ms, e.end_ms, e.box, e.path, e.zones, e.attributes, ' +
  'e.frame_sha256, e.frame_bytes, e.crop_sha256, e.crop_bytes, e.frame_width, e.frame_height, e.updated_ms';

/** SQLite GLOB (case-sensitive, * and ?) as a LIKE pattern with \ as its escape character. */
export function globToLike(glob: string): string {
  let out = '';
  for (const c of glob) {
    if (c === '*') out += '%';
    else if (c === '?') out += '_';
    else if (c === '%' || c === '_' || c === '\\') out += `\\${c}`;
    else out += c;
  }
  return out;
}

/** A time the filter gives as a number of ms, or null (SQLite binds NaN as NULL: nothing matches). */
function instant(iso: string): number | null {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

export function planPgSearch(filter: SearchFilter, options: SearchPageOptions): PgSearchPlan {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown, cast: string) => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };
  if (filter.kinds.length > 0) where.push(`e.kind = ANY(${p(filter.kinds, 'text[]')})`);
  // One value is `=`, not `= ANY`: PostgreSQL 15 reads an index in order only for plain equality on its leading
  // columns, and "at the night market" should walk (location, label, start) newest first and stop at the page.
  const oneOf = (column: string, values: string[]) => (values.length === 1 ? `${column} = ${p(values[0], 'text')}` : `${column} = ANY(${p(values, 'text[]')})`);
  // Only object and plate events have labels, so the label alone picks them, on the (label, start) index; with
  // several, each gets its own scan (below). The label's clause is added where the query is put together.
  const labels = filter.labels.length > 0 ? labelsWithNeighbours(filter.labels) : [];
  const placeClauses: string[] = [];
  const byKind = (kind: PlaceKind) => filter.places.filter((pl) => pl.kind === kind);
  if (byKind('location').length) placeClauses.push(oneOf('e.location', byKind('location').map((pl) => pl.name)));
  if (byKind('camera').length) placeClauses.push(oneOf('e.camera', byKind('camera').map((pl) => pl.name)));
  for (const zone of byKind('zone')) {
    // SQLite binds an absent camera as NULL (`e.camera = NULL`: no match); so does this.
    placeClauses.push(`(e.camera = ${p(zone.camera ?? null, 'text')} AND e.zones @> ARRAY[${p(zone.name, 'text')}])`);
  }
  if (placeClauses.length) where.push(`(${placeClauses.join(' OR ')})`);
  for (const c of filter.colours) {
    const tags = COLOUR_ATTRIBUTES[c.part].flatMap((name) => colourWithNeighbours(c.colour).map((colour) => `${name}:${colour}`));
    where.push(`e.tags && ${p(tags, 'text[]')}`);
  }
  let fullPlate = false;
  if (filter.plate) {
    const plate = filter.plate;
    if (!/[*?]/.test(plate) && isPlate(plate)) {
      fullPlate = true;
      // Through the plate table (one index, ~1,700 probes), then each match's event by its key.
      where.push(`(e.box_name, e.box_id, e.start_ms) IN (SELECT box_name, box_id, start_ms FROM event_plates WHERE value = ANY(${p(plateVariants(plate), 'text[]')}))`);
    } else {
      // A fragment matches anywhere in the plate; * and ? are wildcards.
      const glob = `*${plate.replace(/^\*+|\*+$/g, '')}*`;
      where.push(`e.plate_text LIKE ${p(globToLike(glob), 'text')}`);
    }
  }
  let order = 'e.start_ms DESC, e.box_id DESC, e.box_name DESC';
  if (filter.time) {
    const from = instant(filter.time.from);
    const to = instant(filter.time.to);
    where.push(`e.start_ms >= ${p(from === null ? null : from - LONGEST_EVENT_MS, 'bigint')} AND e.start_ms < ${p(to, 'bigint')} AND COALESCE(e.end_ms, e.start_ms) >= ${p(from, 'bigint')}`);
    // Closest to the moment asked for first; a day or a span, newest first.
    if (filter.time.around && options.order !== 'newest') {
      const around = Date.parse(filter.time.around);
      if (!Number.isSafeInteger(around)) throw new Error(`not a time: ${filter.time.around}`);
      order = `abs(e.start_ms - ${around}) ASC, e.score DESC NULLS LAST, e.box_id DESC, e.box_name DESC`;
    }
  }
  const offset = decodeCursor(options.cursor);
  const limit = p(options.limit + 1, 'bigint');
  const skip = p(offset, 'bigint');
  const condition = (labelClause: string | undefined) => {
    const all = labelClause ? [labelClause, ...where] : where;
    return all.length ? ` WHERE ${all.join(' AND ')}` : '';
  };
  // Made only where used: every parameter added must appear in the statement.
  const anyLabel = () => (labels.length ? oneOf('e.label', labels) : undefined);
  if (fullPlate) {
    // A full plate matches a handful of events among millions, but PostgreSQL takes each of its ~1,700 variants
    // for at least one row and walks the time index to fill the page, reading every event when there is no
    // match (26 s at 10M). Planned apart from the page (OFFSET 0 keeps the LIMIT out), the matches come from the
    // plate indexes and are sorted.
    return { sql: `SELECT * FROM (SELECT ${EVENT_COLUMNS} FROM events e${condition(anyLabel())} OFFSET 0) e ORDER BY ${order} LIMIT ${limit} OFFSET ${skip}`, params };
  }
  if (labels.length <= 1) return { sql: `SELECT ${EVENT_COLUMNS} FROM events e${condition(anyLabel())} ORDER BY ${order} LIMIT ${limit} OFFSET ${skip}`, params };
  // The page's rows are among the first offset + limit + 1 of each label's own scan: each stops there, and the
  // merge orders them as one scan would have. A label is in one branch only, so nothing comes twice.
  const each = p(offset + options.limit + 1, 'bigint');
  const branches = labels.map((label) => `(SELECT ${EVENT_COLUMNS} FROM events e${condition(oneOf('e.label', [label]))} ORDER BY ${order} LIMIT ${each})`);
  return { sql: `SELECT * FROM (${branches.join(' UNION ALL ')}) e ORDER BY ${order} LIMIT ${limit} OFFSET ${skip}`, params };
}
