// The station hub's event store: PostgreSQL, holding every box's events as the box last committed them, keyed by
// (box name, the box's event id), with the hub's own id for get(). A batch of a box's changes, its gaps, its
// attachments and the box's new cursor are written in one transaction (apply), so a hub that dies at any
// instant neither loses nor doubles an event. Searches answer exactly as the box's SQLite store would
// (pg-search.ts); the schema and why it is so are in pg-migrations.ts.
import pg from 'pg';
import type { ChangeJson, EventJson, TombstoneJson } from '../contract/types.js';
import type { SearchFilter, SearchPage, SearchPageOptions } from '../contract/search.js';
import { pageOf } from '../events/search-paging.js';
import type { EventKind, SnapshotRef, StoredEvent } from '../events/store.js';
import { attachmentPath } from './attachment-path.js';
import { migrate } from './pg-migrations.js';
import { EVENT_COLUMNS, planPgSearch } from './pg-search.js';
import type { AppliedBatch, AttachmentRecord, BoxCursor, ReplicaBatch, ReplicaGap, ReplicaStore } from './replica-store.js';

/** pg_advisory_xact_lock key serialising partition creation and dropping ("vigil" + 2). */
const PARTITION_LOCK = 0x7669_6769_6c02n.toString();
/** Rows per INSERT statement: one round trip for up to this many events. */
const UPSERT_CHUNK = 1000;
export const LOST_REASON = 'deleted on the box before the hub read it';

interface PgEventRow {
  id: string;
  box_name: string;
  box_id: string;
  seq: string;
  kind: EventKind;
  camera: string;
  location: string;
  label: string | null;
  score: number | null;
  start_ms: string;
  end_ms: string | null;
  box: number[] | null;
  path: Array<[number, number, number]> | null;
  zones: string[];
  attributes: Record<string, unknown>;
  frame_sha256: string | null;
  frame_bytes: string;
  crop_sha256: string | null;
  crop_bytes: string;
  frame_width: number | null;
  frame_height: number | null;
  updated_ms: string;
}

/** The connection string without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/:@/, '@');
  } catch {
    return '(a connection string that is not a URL)';
  }
}

const isSha256 = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
const isTombstone = (c: ChangeJson): c is TombstoneJson => (c as TombstoneJson).deleted === true;

/**
 * The searchable values of an event's attributes, derived exactly as the box's indexAttributes derives its
 * event_attributes and plate_text rows: for each attribute that is an object with a string `colour` (for a
 * plate reading, its string `text`), 'name:value', and 'name:alternative' for a string alternative.
 */
export function searchableAttributes(attributes: Record<string, unknown> | undefined | null): { tags: string[]; plateText: string | null; plateAlt: string | null } {
  const tags = new Set<string>();
  let plateText: string | null = null;
  let plateAlt: string | null = null;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (!value || typeof value !== 'object') continue;
    const { colour: c0, text, alternative } = value as { colour?: unknown; text?: unknown; alternative?: unknown };
    const colour = typeof text === 'string' ? text : c0;
    if (typeof colour !== 'string') continue;
    tags.add(`${name}:${colour}`);
    if (name === 'plate') plateText = colour;
    if (typeof alternative === 'string') tags.add(`${name}:${alternative}`);
    if (name === 'plate' && typeof alternative === 'string') plateAlt = alternative;
  }
  return { tags: [...tags], plateText, plateAlt };
}

/** The first instant (ms, UTC) of the calendar month `ms` falls in, and of the next one. */
function monthOf(ms: number): { name: string; from: number; to: number } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return { name: `events_p${String(y).padStart(4, '0')}${String(m + 1).padStart(2, '0')}`, from: Date.UTC(y, m, 1), to: Date.UTC(y, m + 1, 1) };
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

function eventFromPgRow(r: PgEventRow): StoredEvent {
  // The box's path is not kept: the hub keeps each picture once, by its SHA-256 (attachment-path.ts).
  const ref = (sha: string | null, bytes: string): SnapshotRef | null => (sha ? { path: attachmentPath(sha), sha256: sha, bytes: Number(bytes) } : null);
  return {
    // Clips stay on the box for now: the hub does not copy video (yet).
    clips: [],
    id: Number(r.id),
    seq: Number(r.seq),
    kind: r.kind,
    camera: r.camera,
    location: r.location,
    label: r.label,
    score: r.score,
    start: Number(r.start_ms),
    end: r.end_ms === null ? null : Number(r.end_ms),
    box: r.box,
    path: r.path,
    zones: r.zones,
    attributes: r.attributes,
    frame: ref(r.frame_sha256, r.frame_bytes),
    crop: ref(r.crop_sha256, r.crop_bytes),
    frameSize: r.frame_width && r.frame_height ? [r.frame_width, r.frame_height] : null,
    updated: Number(r.updated_ms),
    boxName: r.box_name,
    boxId: Number(r.box_id),
  };
}

/** An EventJson as the row apply() writes (jsonb_to_recordset reads these names). */
function rowOf(e: EventJson, now: number): Record<string, unknown> {
  const start = Date.parse(e.start);
  if (!Number.isSafeInteger(start)) throw new Error(`event ${e.id} (seq ${e.seq}): its start is not a time: ${String(e.start)}`);
  const end = e.end === null || e.end === undefined ? null : Date.parse(e.end);
  if (end !== null && !Number.isSafeInteger(end)) throw new Error(`event ${e.id} (seq ${e.seq}): its end is not a time: ${String(e.end)}`);
  const updated = typeof e.updated === 'string' ? Date.parse(e.updated) : Number.NaN;
  const { tags, plateText, plateAlt } = searchableAttributes(e.attributes);
  // A picture whose SHA-256 is not one cannot be kept by it: the event is held without that snapshot.
  const frame = isSha256(e.snapshots?.frame?.sha256) ? e.snapshots.frame! : null;
  const crop = isSha256(e.snapshots?.crop?.sha256) ? e.snapshots.crop! : null;
  return {
    box_id: e.id,
    seq: e.seq,
    kind: e.kind,
    camera: e.camera,
    location: e.location,
    label: e.label ?? null,
    score: e.score ?? null,
    start_ms: start,
    end_ms: end,
    box: e.box ?? null,
    path: e.path ?? null,
    zones: e.zones ?? [],
    attributes: e.attributes ?? {},
    tags,
    plate_text: plateText,
    plate_alt: plateAlt,
    frame_sha256: frame?.sha256 ?? null,
    frame_bytes: frame?.bytes ?? 0,
    crop_sha256: crop?.sha256 ?? null,
    crop_bytes: crop?.bytes ?? 0,
    frame_width: e.frame_size?.[0] ?? null,
    frame_height: e.frame_size?.[1] ?? null,
    updated_ms: Number.isFinite(updated) ? updated : now,
  };
}

// inserted vs updated: the outer SELECT reads events as they were before the statement (a data-modifying CTE's
// rows are not visible to the rest of its statement), so a row written that was not there before is new.
// (RETURNING xmax = 0, the usual trick, is not allowed on a partitioned table.)
const UPSERT_SQL = `WITH up AS (INSERT INTO events AS t (box_name, box_id, seq, kind, camera, location, label, score, start_ms, end_ms, box, path, zones,
    attributes, tags, plate_text, plate_alt, frame_sha256, frame_bytes, crop_sha256, crop_bytes, frame_width, frame_height, updated_ms)
  SELECT $1, r.box_id, r.seq, r.kind, r.camera, r.location, r.label, r.score, r.start_ms, r.end_ms, NULLIF(r.box, 'null'), NULLIF(r.path, 'null'),
    ARRAY(SELECT jsonb_array_elements_text(r.zones)), r.attributes, ARRAY(SELECT jsonb_array_elements_text(r.tags)), r.plate_text, r.plate_alt,
    r.frame_sha256, r.frame_bytes, r.crop_sha256, r.crop_bytes, r.frame_width, r.frame_height, r.updated_ms
  FROM jsonb_to_recordset($2::jsonb) AS r(box_id bigint, seq bigint, kind text, camera text, location text, label text, score double precision,
    start_ms bigint, end_ms bigint, box jsonb, path jsonb, zones jsonb, attributes jsonb, tags jsonb, plate_text text, plate_alt text, frame_sha256 text,
    frame_bytes bigint, crop_sha256 text, crop_bytes bigint, frame_width integer, frame_height integer, updated_ms bigint)
  ON CONFLICT (box_name, box_id, start_ms) DO UPDATE SET seq = EXCLUDED.seq, kind = EXCLUDED.kind, camera = EXCLUDED.camera,
    location = EXCLUDED.location, label = EXCLUDED.label, score = EXCLUDED.score, end_ms = EXCLUDED.end_ms, box = EXCLUDED.box,
    path = EXCLUDED.path, zones = EXCLUDED.zones, attributes = EXCLUDED.attributes, tags = EXCLUDED.tags, plate_text = EXCLUDED.plate_text, plate_alt = EXCLUDED.plate_alt,
    frame_sha256 = EXCLUDED.frame_sha256, frame_bytes = EXCLUDED.frame_bytes, crop_sha256 = EXCLUDED.crop_sha256,
    crop_bytes = EXCLUDED.crop_bytes, frame_width = EXCLUDED.frame_width, frame_height = EXCLUDED.frame_height, updated_ms = EXCLUDED.updated_ms
  -- An older version of an event (a batch replayed) never replaces a newer one.
  WHERE t.seq < EXCLUDED.seq
  RETURNING t.box_id, t.start_ms)
SELECT count(*)::int AS written, (count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM events e
    WHERE e.box_name = $1 AND e.box_id = up.box_id AND e.start_ms = up.start_ms)))::int AS inserted
  FROM up`;

/**
 * A client from the pool that cannot end the process: a connection lost while it is checked out (PostgreSQL
 * restarting under a transaction) is emitted as 'error' on the client, which with no listener is an uncaught
 * exception. The query in flight rejects with the same error, and that is where it is handled.
 */
async function checkedOut(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  if (client.listenerCount('error') === 0) client.on('error', () => undefined);
  return client;
}

export class PgEventStore implements ReplicaStore {
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects, and brings the schema up to date (under an advisory lock: two hubs starting together are fine). */
  static async open(url: string, options: { max?: number } = {}): Promise<PgEventStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection (the server restarted) must not end the process: the next query
    // gets a new one.
    pool.on('error', () => undefined);
    try {
      const client = await checkedOut(pool);
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the hub's event store ${redactUrl(url)}: ${(err as Error).message}`);
    }
    return new PgEventStore(pool);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async get(id: number): Promise<StoredEvent | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const { rows } = await this.pool.query<PgEventRow>(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.id = $1`, [id]);
    return rows[0] ? eventFromPgRow(rows[0]) : undefined;
  }

  async searchEvents(filter: SearchFilter, options: SearchPageOptions): Promise<SearchPage<StoredEvent>> {
    const plan = planPgSearch(filter, options);
    const { rows } = await this.pool.query<PgEventRow>(plan.sql, plan.params);
    return pageOf(rows.map(eventFromPgRow), options);
  }

  /** PostgreSQL's plan for a search, one line a step: tests and benchmarks check no search scans every event. */
  async explainSearch(filter: SearchFilter, options: SearchPageOptions): Promise<string[]> {
    const plan = planPgSearch(filter, options);
    const { rows } = await this.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${plan.sql}`, plan.params);
    return rows.map((r) => r['QUERY PLAN']);
  }

  async countByCamera(sinceMs: number): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ camera: string; n: string }>('SELECT camera, count(*) AS n FROM events WHERE start_ms >= $1 GROUP BY camera', [sinceMs]);
    return new Map(rows.map((r) => [r.camera, Number(r.n)]));
  }

  async lastObjectAt(camera: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ start_ms: string }>("SELECT start_ms FROM events WHERE camera = $1 AND kind = 'object' ORDER BY start_ms DESC LIMIT 1", [camera]);
    return rows[0] ? Number(rows[0].start_ms) : undefined;
  }

  async cursor(box: string): Promise<BoxCursor> {
    const { rows } = await this.pool.query<{ store_id: string | null; last_seq: string }>('SELECT store_id, last_seq FROM box_cursors WHERE box = $1', [box]);
    return rows[0] ? { storeId: rows[0].store_id, lastSeq: Number(rows[0].last_seq) } : { storeId: null, lastSeq: 0 };
  }

  async apply(batch: ReplicaBatch, expected: BoxCursor): Promise<AppliedBatch> {
    const now = Date.now();
    // The changes as they leave the events: the last change of each box id wins (in sequence order), so an event
    // deleted later in the batch is not written, and an id the box reused after a deletion is written anew.
    const events = new Map<number, EventJson>();
    const tombstones = new Map<number, TombstoneJson>();
    // A box's retention making room is not a reason for the station's archive to forget: the hub keeps its copy
    // (its own retention applies) and only needs to know whether it ever had the event.
    const retained = new Map<number, TombstoneJson>();
    const seenInBatch = new Set<number>();
    for (const c of batch.changes) {
      if (isTombstone(c) && c.reason === 'retention') {
        if (!seenInBatch.has(c.id)) retained.set(c.id, c);
      } else if (isTombstone(c)) {
        events.delete(c.id);
        tombstones.set(c.id, c);
      } else {
        events.set(c.id, c);
        seenInBatch.add(c.id);
      }
    }
    const rows = [...events.values()].map((e) => rowOf(e, now));
    const client = await checkedOut(this.pool);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // The cursor row, locked until commit: a second hub process applying the same box waits here, then
      // finds the cursor moved and is refused.
      await client.query('INSERT INTO box_cursors (box) VALUES ($1) ON CONFLICT (box) DO NOTHING', [batch.box]);
      const cur = (await client.query<{ store_id: string | null; last_seq: string }>('SELECT store_id, last_seq FROM box_cursors WHERE box = $1 FOR UPDATE', [batch.box])).rows[0]!;
      if (cur.store_id !== expected.storeId || Number(cur.last_seq) !== expected.lastSeq) {
        throw new Error(`box ${batch.box}: the hub's cursor is (${cur.store_id ?? 'none'}, ${cur.last_seq}), not the (${expected.storeId ?? 'none'}, ${expected.lastSeq}) this batch follows: another writer moved it`);
      }
      await this.ensurePartitions(client, rows.map((r) => r.start_ms as number));
      let deleted = 0;
      let lost = 0;
      if (tombstones.size > 0) {
        const ids = [...tombstones.keys()];
        const { rows: gone } = await client.query<{ box_id: string }>('DELETE FROM events WHERE box_name = $1 AND box_id = ANY($2::bigint[]) RETURNING box_id', [batch.box, ids]);
        const goneIds = new Set(gone.map((r) => Number(r.box_id)));
        deleted = gone.length;
        const lostOnes = [...tombstones.values()].filter((t) => !goneIds.has(t.id) && !seenInBatch.has(t.id));
        // An event written and deleted within the batch: the hub had it, as of this batch.
        deleted += [...tombstones.keys()].filter((id) => !goneIds.has(id) && seenInBatch.has(id)).length;
        lost = lostOnes.length;
        if (lost > 0) {
          await client.query(
            `INSERT INTO replica_gaps (box, from_seq, to_seq, reason) SELECT $1, s, s, $3 FROM unnest($2::bigint[]) AS s`,
            [batch.box, lostOnes.map((t) => t.seq), LOST_REASON],
          );
        }
      }
      if (retained.size > 0) {
        const { rows: held } = await client.query<{ box_id: string }>('SELECT box_id FROM events WHERE box_name = $1 AND box_id = ANY($2::bigint[])', [batch.box, [...retained.keys()]]);
        const heldIds = new Set(held.map((r) => Number(r.box_id)));
        const lostOnes = [...retained.values()].filter((t) => !heldIds.has(t.id));
        lost += lostOnes.length;
        if (lostOnes.length > 0) {
          await client.query(
            `INSERT INTO replica_gaps (box, from_seq, to_seq, reason) SELECT $1, s, s, $3 FROM unnest($2::bigint[]) AS s`,
            [batch.box, lostOnes.map((t) => t.seq), LOST_REASON],
          );
        }
      }
      let inserted = 0;
      let updated = 0;
      for (let i = 0; i < rows.length; i += UPSERT_CHUNK) {
        const { rows: counts } = await client.query<{ written: number; inserted: number }>(UPSERT_SQL, [batch.box, JSON.stringify(rows.slice(i, i + UPSERT_CHUNK))]);
        inserted += counts[0]!.inserted;
        updated += counts[0]!.written - counts[0]!.inserted;
      }
      if (batch.gaps.length > 0) {
        await client.query(
          'INSERT INTO replica_gaps (box, from_seq, to_seq, reason) SELECT $1, f, t, r FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS g(f, t, r)',
          [batch.box, batch.gaps.map((g) => g.fromSeq), batch.gaps.map((g) => g.toSeq), batch.gaps.map((g) => g.reason)],
        );
      }
      if (batch.attachments.length > 0) {
        // One row per picture: within the batch as across batches, 'stored' wins over 'missing' and 'refused'.
        const bySha = new Map<string, AttachmentRecord>();
        for (const a of batch.attachments) if (bySha.get(a.sha256)?.state !== 'stored' || a.state === 'stored') bySha.set(a.sha256, a);
        const list = [...bySha.values()];
        await client.query(
          `INSERT INTO attachments (sha256, bytes, state, box) SELECT s, b, st, $4 FROM unnest($1::text[], $2::bigint[], $3::text[]) AS a(s, b, st)
           ON CONFLICT (sha256) DO UPDATE SET bytes = EXCLUDED.bytes, state = EXCLUDED.state, box = EXCLUDED.box, recorded_at = now()
           WHERE attachments.state <> 'stored' OR EXCLUDED.state = 'stored'`,
          [list.map((a) => a.sha256), list.map((a) => a.bytes), list.map((a) => a.state), batch.box],
        );
      }
      await client.query('UPDATE box_cursors SET store_id = $2, last_seq = $3, updated_at = now() WHERE box = $1', [batch.box, batch.storeId, batch.lastSeq]);
      await client.query('COMMIT');
      return { inserted, updated, deleted, lost, committedAt: Date.now() };
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      // A client whose rollback failed is in an unknown state: destroy it rather than hand it to the next caller.
      client.release(broken);
    }
  }

  /** Every month partition the batch's events need, created inside the batch's transaction. */
  private async ensurePartitions(client: pg.PoolClient, starts: number[]): Promise<void> {
    const months = new Map<string, { from: number; to: number }>();
    for (const s of starts) {
      const m = monthOf(s);
      months.set(m.name, m);
    }
    if (months.size === 0) return;
    const { rows } = await client.query<{ name: string }>('SELECT n AS name FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NULL', [[...months.keys()]]);
    if (rows.length === 0) return;
    // Serialised: two hubs creating the same month would otherwise race between the check and the create.
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    for (const { name } of rows) {
      const m = months.get(name)!;
      await client.query(`CREATE TABLE IF NOT EXISTS ${quoteIdent(name)} PARTITION OF events FOR VALUES FROM (${m.from}) TO (${m.to})`);
    }
  }

  /** Every recorded gap (of one box), oldest first. */
  async gaps(box?: string): Promise<Array<ReplicaGap & { box: string; recordedAt: number }>> {
    const { rows } = await this.pool.query<{ box: string; from_seq: string; to_seq: string; reason: string; recorded_at: Date }>(
      `SELECT box, from_seq, to_seq, reason, recorded_at FROM replica_gaps${box === undefined ? '' : ' WHERE box = $1'} ORDER BY recorded_at, box, from_seq`,
      box === undefined ? [] : [box],
    );
    return rows.map((r) => ({ box: r.box, fromSeq: Number(r.from_seq), toSeq: Number(r.to_seq), reason: r.reason, recordedAt: r.recorded_at.getTime() }));
  }

  async countEvents(box?: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM events${box === undefined ? '' : ' WHERE box_name = $1'}`, box === undefined ? [] : [box]);
    return Number(rows[0]!.n);
  }

  async attachment(sha256: string): Promise<AttachmentRecord | undefined> {
    const { rows } = await this.pool.query<{ sha256: string; bytes: string; state: AttachmentRecord['state'] }>('SELECT sha256, bytes, state FROM attachments WHERE sha256 = $1', [sha256]);
    return rows[0] ? { sha256: rows[0].sha256, bytes: Number(rows[0].bytes), state: rows[0].state } : undefined;
  }

  /** The cameras events came from, per box (the hub's camera list when a box does not answer). */
  async cameras(): Promise<Array<{ box: string; camera: string; location: string }>> {
    const { rows } = await this.pool.query<{ box: string; camera: string; location: string }>('SELECT DISTINCT box_name AS box, camera, location FROM events ORDER BY 1, 2, 3');
    return rows;
  }

  /** The database's size on disk (bytes), as PostgreSQL counts it. */
  async databaseBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n');
    return Number(rows[0]!.n);
  }

  /** The month partitions, oldest first, with their bounds. */
  async partitions(): Promise<Array<{ name: string; from: number; to: number }>> {
    const { rows } = await this.pool.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'events'::regclass`,
    );
    return rows
      .map((r) => {
        const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(r.bound);
        return m ? { name: r.name, from: Number(m[1]), to: Number(m[2]) } : undefined;
      })
      .filter((p): p is { name: string; from: number; to: number } => p !== undefined)
      .sort((a, b) => a.from - b.from);
  }

  /**
   * Deletes events that ended before `olderThanMs` (as the box's retention: COALESCE(end, start) < cutoff):
   * a month partition wholly before the cutoff is dropped at once, the boundary month loses its older rows.
   * Then, while the database plus the attachments on disk (`attachmentBytesOnDisk`) exceed `maxBytes`, the
   * oldest ended events go, an estimate of what each frees at a time. Returns how many events went, and the
   * SHA-256 of the attachments no event references any more: their rows are deleted, the caller removes
   * the files (after the rows: a crash in between leaves orphan files, never rows pointing at nothing).
   */
  async enforceRetention(olderThanMs: number, maxBytes: number, attachmentBytesOnDisk: number): Promise<{ deleted: number; orphanAttachments: string[] }> {
    let deleted = 0;
    for (const part of await this.partitions()) {
      if (part.to > olderThanMs) continue;
      await this.transaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
        if ((await client.query('SELECT to_regclass($1) AS r', [part.name])).rows[0]?.r === null) return;
        // An event that began in the month may have gone on past the cutoff: such a month is only trimmed.
        // (This reads the month once, without an index on end_ms: retention runs rarely, and a month is
        // normally dropped on the first run after it qualifies.)
        const { rows } = await client.query<{ n: string; later: boolean }>(
          `SELECT count(*) AS n, COALESCE(bool_or(end_ms >= $1), false) AS later FROM ${quoteIdent(part.name)}`,
          [olderThanMs],
        );
        if (rows[0]!.later) return;
        await client.query(`DROP TABLE ${quoteIdent(part.name)}`);
        // A dropped partition fires no delete trigger: its plates go here, in the same transaction.
        await client.query('DELETE FROM event_plates WHERE start_ms >= $1 AND start_ms < $2', [part.from, part.to]);
        deleted += Number(rows[0]!.n);
      });
    }
    const aged = await this.pool.query('DELETE FROM events WHERE start_ms < $1 AND COALESCE(end_ms, start_ms) < $1', [olderThanMs]);
    deleted += aged.rowCount ?? 0;
    // The space of deleted rows is reused by new ones once vacuumed: only the months that can hold them.
    if ((aged.rowCount ?? 0) > 0) {
      for (const part of await this.partitions()) if (part.from < olderThanMs) await this.pool.query(`VACUUM ${quoteIdent(part.name)}`);
    }

    const dbBytes = await this.databaseBytes();
    const excess = dbBytes + attachmentBytesOnDisk - maxBytes;
    if (excess > 0) {
      // What a row and its index entries take, on average: the event partitions' size over their rows.
      const { rows: sized } = await this.pool.query<{ bytes: string; n: string }>(
        `SELECT COALESCE(sum(pg_total_relation_size(i.inhrelid)), 0) AS bytes, (SELECT count(*) FROM events) AS n
         FROM pg_inherits i WHERE i.inhparent = 'events'::regclass`,
      );
      const rowBytes = Number(sized[0]!.bytes) / Math.max(1, Number(sized[0]!.n));
      // Events still in progress are left alone, as on the box.
      const doomed: Array<{ id: string; start_ms: string }> = [];
      let freed = 0;
      let after: { start: string; id: string } | undefined;
      while (freed < excess) {
        const { rows } = await this.pool.query<{ id: string; start_ms: string; bytes: string }>(
          `SELECT id, start_ms, frame_bytes + crop_bytes AS bytes FROM events WHERE end_ms IS NOT NULL
           ${after ? 'AND (start_ms, id) > ($1::bigint, $2::bigint)' : ''} ORDER BY start_ms, id LIMIT 500`,
          after ? [after.start, after.id] : [],
        );
        if (rows.length === 0) break;
        for (const r of rows) {
          if (freed >= excess) break;
          doomed.push(r);
          freed += Number(r.bytes) + rowBytes;
        }
        const last = rows.at(-1)!;
        after = { start: last.start_ms, id: last.id };
      }
      if (doomed.length > 0) {
        const gone = await this.pool.query(
          'DELETE FROM events e USING unnest($1::bigint[], $2::bigint[]) AS d(id, s) WHERE e.start_ms = d.s AND e.id = d.id',
          [doomed.map((d) => d.id), doomed.map((d) => d.start_ms)],
        );
        deleted += gone.rowCount ?? 0;
        // Give the space back now (the oldest months, rewritten), or the next run would see the same size
        // and delete again: PostgreSQL keeps a table's pages after a DELETE.
        const touched = new Set(doomed.map((d) => monthOf(Number(d.start_ms)).name));
        for (const name of touched) await this.pool.query(`VACUUM FULL ${quoteIdent(name)}`).catch(() => undefined);
      }
    }
    const { rows: orphans } = await this.pool.query<{ sha256: string }>(
      `DELETE FROM attachments a WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.frame_sha256 = a.sha256)
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.crop_sha256 = a.sha256) RETURNING sha256`,
    );
    return { deleted, orphanAttachments: orphans.map((r) => r.sha256).sort() };
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await checkedOut(this.pool);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
