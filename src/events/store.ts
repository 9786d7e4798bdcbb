// The event store: SQLite (better-sqlite3) in WAL mode, the edge box's source of truth. Writes are queued
// and committed together every flush interval; every committed change gets the next sequence number, so a
// subscriber or a central hub can ask for "everything after seq N" and never miss an event.
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SearchFilter, SearchPage, SearchPageOptions } from '../contract/search.js';
import { SEGMENTS_MIGRATION, SegmentIndex, type Segment } from '../recording/segment-index.js';
import type { EventQueries } from './event-queries.js';
import { pageOf, planSearch } from './sqlite-search.js';

export type EventKind = 'motion' | 'object' | 'plate';

export interface SnapshotRef {
  path: string;
  sha256: string;
  bytes: number;
}

/** An event's video: an MP4 assembled from the camera's recorded segments, hashed as written. */
export interface ClipRef {
  /** Relative to the clips folder. */
  path: string;
  sha256: string;
  bytes: number;
  /** What the clip covers (ms): its first keyframe to its last frame. */
  start: number;
  end: number;
  /** The stream's codec as recorded: h264 plays in browsers, hevc does not in most. */
  codec: string;
  /** The stream ended before the window asked for did: the clip stops where the camera's video stopped. */
  truncated: boolean;
}

export interface EventFields {
  kind: EventKind;
  camera: string;
  location: string;
  label?: string | null;
  score?: number | null;
  start: number;
  end?: number | null;
  box?: number[] | null;
  path?: Array<[number, number, number]> | null;
  zones?: string[];
  attributes?: Record<string, unknown>;
  frame?: SnapshotRef | null;
  crop?: SnapshotRef | null;
  frameSize?: [number, number] | null;
  /** The event's clips in order (a long event is cut into several). */
  clips?: ClipRef[];
}

export interface StoredEvent extends Required<Omit<EventFields, 'frame' | 'crop' | 'frameSize'>> {
  id: number;
  seq: number;
  frame: SnapshotRef | null;
  crop: SnapshotRef | null;
  frameSize: [number, number] | null;
  updated: number;
  /** At a station hub: the box the event comes from and its id there (`id` is the hub's). */
  boxName?: string;
  boxId?: number;
}

interface Row {
  id: number;
  seq: number;
  kind: EventKind;
  camera: string;
  location: string;
  label: string | null;
  score: number | null;
  start_ms: number;
  end_ms: number | null;
  box: string | null;
  path: string | null;
  zones: string;
  attributes: string;
  snapshot_frame: string | null;
  snapshot_frame_sha256: string | null;
  snapshot_crop: string | null;
  snapshot_crop_sha256: string | null;
  snapshot_frame_bytes: number;
  snapshot_crop_bytes: number;
  frame_width: number | null;
  frame_height: number | null;
  updated_ms: number;
  clips: string;
  clip_bytes: number;
}

// Each migration runs once, in order, in a transaction; user_version records how far a store has come.
const MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
   INSERT INTO meta (key, value) VALUES ('last_seq', 0);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     seq INTEGER NOT NULL UNIQUE,
     kind TEXT NOT NULL CHECK (kind IN ('motion', 'object', 'plate')),
     camera TEXT NOT NULL,
     location TEXT NOT NULL,
     label TEXT,
     score REAL,
     start_ms INTEGER NOT NULL,
     end_ms INTEGER,
     box TEXT,
     path TEXT,
     zones TEXT NOT NULL DEFAULT '[]',
     attributes TEXT NOT NULL DEFAULT '{}',
     snapshot_frame TEXT,
     snapshot_frame_sha256 TEXT,
     snapshot_crop TEXT,
     snapshot_crop_sha256 TEXT,
     snapshot_frame_bytes INTEGER NOT NULL DEFAULT 0,
     snapshot_crop_bytes INTEGER NOT NULL DEFAULT 0,
     frame_width INTEGER,
     frame_height INTEGER,
     updated_ms INTEGER NOT NULL
   );
   CREATE INDEX events_start ON events (start_ms);
   CREATE INDEX events_camera_start ON events (camera, start_ms);
   CREATE INDEX events_location_start ON events (location, start_ms);
   CREATE INDEX events_kind_label_start ON events (kind, label, start_ms);
   CREATE TABLE event_zones (
     zone TEXT NOT NULL,
     event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
     PRIMARY KEY (zone, event_id)
   ) WITHOUT ROWID;
   CREATE INDEX event_zones_event ON event_zones (event_id);`,
  // 2: searchable attributes (colours and plates), one row per value, alternatives included.
  `CREATE TABLE event_attributes (
     name TEXT NOT NULL,
     value TEXT NOT NULL,
     event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
     confidence REAL,
     PRIMARY KEY (name, value, event_id)
   ) WITHOUT ROWID;
   CREATE INDEX event_attributes_event ON event_attributes (event_id);`,
  // 3: plate fragments (贵F8, 12*45) found through a trigram index instead of a scan.
  `CREATE VIRTUAL TABLE plate_text USING fts5(text, tokenize = 'trigram');
   CREATE TRIGGER events_plate_text_delete AFTER DELETE ON events BEGIN DELETE FROM plate_text WHERE rowid = old.id; END;`,
  // 4: searches by label walk (label, start) in time order and stop at the page's end.
  `CREATE INDEX events_label_start ON events (label, start_ms);`,
  // 5: "yellow taxi at the night market": place and label together, in time order.
  `CREATE INDEX events_location_label_start ON events (location, label, start_ms);`,
  // 6: replication to a station hub. An event retention deletes leaves a tombstone with the next sequence
  // number, so a hub knows (it keeps its copy under its own retention, and counts a gap for an event it never
  // read); tombstones are pruned after a while, and horizon_seq says up to where
  // (a hub further behind than that has a gap it is told of). store_id names this store: a hub that sees it
  // change knows the box's history was replaced. Snapshots are served to the hub by their hash.
  `CREATE TABLE tombstones (seq INTEGER PRIMARY KEY, event_id INTEGER NOT NULL, deleted_ms INTEGER NOT NULL);
   INSERT INTO meta (key, value) VALUES ('horizon_seq', 0);
   CREATE TABLE store_identity (store_id TEXT NOT NULL);
   INSERT INTO store_identity (store_id) VALUES (lower(hex(randomblob(16))));
   CREATE INDEX events_frame_sha256 ON events (snapshot_frame_sha256) WHERE snapshot_frame_sha256 IS NOT NULL;
   CREATE INDEX events_crop_sha256 ON events (snapshot_crop_sha256) WHERE snapshot_crop_sha256 IS NOT NULL;`,
  // 7: video. An event's clips (JSON, with their bytes summed for the disk budget), and the index of the
  // cameras' recorded segments (recording/segment-index.ts).
  `ALTER TABLE events ADD COLUMN clips TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE events ADD COLUMN clip_bytes INTEGER NOT NULL DEFAULT 0;
   ${SEGMENTS_MIGRATION}`,
];

/** How long a deleted event's tombstone is served to hubs before it is pruned: a hub down longer has a gap. */
export const TOMBSTONE_DAYS = 30;

/** An event retention deleted, as the changes feed carries it. */
export interface Tombstone {
  seq: number;
  id: number;
  deletedAt: number;
}

/** Where an event's files live: retention removes them with their rows. */
export interface MediaRoots {
  snapshots: string;
  clips: string;
  recordings: string;
}

/** The media folders of a data_dir. */
export function mediaRoots(dataDir: string): MediaRoots {
  return { snapshots: path.join(dataDir, 'snapshots'), clips: path.join(dataDir, 'clips'), recordings: path.join(dataDir, 'recordings') };
}

export interface RetentionResult {
  events: number;
  segments: number;
}

export type StoreChange = { event: StoredEvent } | { tombstone: Tombstone };

export const SCHEMA_VERSION = MIGRATIONS.length;

interface Pending {
  apply(): StoredEvent;
  resolve(e: StoredEvent): void;
  reject(err: Error): void;
}

export interface EventStoreOptions {
  flushMs?: number;
  /** Most queued writes before a commit is forced. */
  batchSize?: number;
}

/** A camera's newest object event, by walking its events newest first (exported for the plan test). */
export const LAST_OBJECT_SQL = "SELECT start_ms FROM events WHERE camera = ? AND kind = 'object' ORDER BY start_ms DESC LIMIT 1";

export class EventStore implements EventQueries {
  private readonly db: Database.Database;
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(events: StoredEvent[]) => void> = [];
  private lastSeq: number;
  private closed = false;
  private readonly stmts;
  private lastObjectStatement: Database.Statement | undefined;
  private tombstoneStatement: Database.Statement | undefined;
  private horizonStatement: Database.Statement | undefined;
  private snapshotStatement: Database.Statement | undefined;
  private identity: string | undefined;
  /** The cameras' recorded segments, in the same database and budget. */
  readonly segments: SegmentIndex;

  constructor(
    readonly file: string,
    private readonly options: EventStoreOptions = {},
  ) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      // SQLite creates its WAL and shared-memory files with the database's own mode: a new store starts 0600
      // whatever the umask, so none of the three is readable by others.
      if (file !== ':memory:' && !existsSync(file)) closeSync(openSync(file, 'wx', 0o600));
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      // FULL: a commit survives power loss, not only a crash of vigil (edge boxes lose power).
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      this.migrate();
    } catch (err) {
      throw new Error(`cannot open the event store ${file}: ${(err as Error).message}`);
    }
    this.lastSeq = (this.db.prepare("SELECT value FROM meta WHERE key = 'last_seq'").get() as { value: number }).value;
    this.segments = new SegmentIndex(this.db);
    this.stmts = {
      insert: this.db.prepare(`INSERT INTO events (seq, kind, camera, location, label, score, start_ms, end_ms, box, path, zones,
        attributes, snapshot_frame, snapshot_frame_sha256, snapshot_crop, snapshot_crop_sha256, snapshot_frame_bytes, snapshot_crop_bytes, frame_width, frame_height, updated_ms,
        clips, clip_bytes)
        VALUES (@seq, @kind, @camera, @location, @label, @score, @start_ms, @end_ms, @box, @path, @zones, @attributes, @snapshot_frame,
        @snapshot_frame_sha256, @snapshot_crop, @snapshot_crop_sha256, @snapshot_frame_bytes, @snapshot_crop_bytes, @frame_width, @frame_height, @updated_ms,
        @clips, @clip_bytes)`),
      update: this.db.prepare(`UPDATE events SET seq = @seq, label = @label, score = @score, end_ms = @end_ms, box = @box, path = @path,
        zones = @zones, attributes = @attributes, snapshot_frame = @snapshot_frame, snapshot_frame_sha256 = @snapshot_frame_sha256,
        snapshot_crop = @snapshot_crop, snapshot_crop_sha256 = @snapshot_crop_sha256,
        snapshot_frame_bytes = @snapshot_frame_bytes, snapshot_crop_bytes = @snapshot_crop_bytes,
        updated_ms = @updated_ms, clips = @clips, clip_bytes = @clip_bytes WHERE id = @id`),
      get: this.db.prepare('SELECT * FROM events WHERE id = ?'),
      since: this.db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
      zoneDelete: this.db.prepare('DELETE FROM event_zones WHERE event_id = ?'),
      zoneInsert: this.db.prepare('INSERT OR IGNORE INTO event_zones (zone, event_id) VALUES (?, ?)'),
      attributeDelete: this.db.prepare('DELETE FROM event_attributes WHERE event_id = ?'),
      plateTextDelete: this.db.prepare('DELETE FROM plate_text WHERE rowid = ?'),
      plateTextInsert: this.db.prepare('INSERT INTO plate_text (rowid, text) VALUES (?, ?)'),
      attributeInsert: this.db.prepare('INSERT OR REPLACE INTO event_attributes (name, value, event_id, confidence) VALUES (?, ?, ?, ?)'),
      seq: this.db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'"),
    };
  }

  static open(dataDir: string, options: EventStoreOptions = {}): EventStore {
    return new EventStore(path.join(dataDir, 'events.db'), options);
  }

  /**
   * Ends the events a crash (kill -9, power loss) left open: at the last time vigil wrote them, the best
   * it knows. Each gets a new sequence number, so subscribers hear of it. Returns how many.
   */
  async closeInterrupted(): Promise<number> {
    const open = this.db.prepare('SELECT id, updated_ms, start_ms FROM events WHERE end_ms IS NULL').all() as Array<{ id: number; updated_ms: number; start_ms: number }>;
    await Promise.all(open.map((r) => this.update(r.id, { end: Math.max(r.start_ms, r.updated_ms) })));
    return open.length;
  }

  /** Called with each batch of committed events, in sequence order, after the commit. */
  onCommit(listener: (events: StoredEvent[]) => void): void {
    this.listeners.push(listener);
  }

  insert(fields: EventFields): Promise<StoredEvent> {
    return this.enqueue(() => {
      const now = Date.now();
      const seq = ++this.lastSeq;
      const row = toRow(fields, seq, now);
      const { lastInsertRowid } = this.stmts.insert.run(row);
      const id = Number(lastInsertRowid);
      for (const zone of fields.zones ?? []) this.stmts.zoneInsert.run(zone, id);
      this.indexAttributes(id, fields.attributes);
      return fromRow({ ...row, id } as Row);
    });
  }

  /** Changes an event (a track ended, a better snapshot); the change gets a new sequence number. */
  update(id: number, patch: Partial<EventFields>): Promise<StoredEvent> {
    return this.enqueue(() => {
      const current = this.stmts.get.get(id) as Row | undefined;
      if (!current) throw new Error(`event ${id} does not exist`);
      const merged = { ...fromRow(current), ...patch } as EventFields;
      const seq = ++this.lastSeq;
      const row = { ...toRow(merged, seq, Date.now()), id };
      this.stmts.update.run(row);
      if (patch.zones) {
        this.stmts.zoneDelete.run(id);
        for (const zone of patch.zones) this.stmts.zoneInsert.run(zone, id);
      }
      if (patch.attributes) {
        this.stmts.attributeDelete.run(id);
        this.stmts.plateTextDelete.run(id);
        this.indexAttributes(id, patch.attributes);
      }
      return fromRow({ ...current, ...row } as Row);
    });
  }

  get(id: number): StoredEvent | undefined {
    const row = this.stmts.get.get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Committed changes after `seq`, in order: what a subscriber that missed messages backfills from. */
  since(seq: number, limit = 1000): StoredEvent[] {
    return (this.stmts.since.all(seq, limit) as Row[]).map(fromRow);
  }

  /**
   * Committed changes after `seq`, events and tombstones of deleted ones, in sequence order: what a hub
   * replicates from (GET /api/changes). An event changed since holds only its newest seq, so the numbers skip.
   */
  changes(seq: number, limit = 1000): StoreChange[] {
    this.tombstoneStatement ??= this.db.prepare('SELECT seq, event_id, deleted_ms FROM tombstones WHERE seq > ? ORDER BY seq LIMIT ?');
    const events: StoreChange[] = this.since(seq, limit).map((event) => ({ event }));
    const tombstones: StoreChange[] = (this.tombstoneStatement.all(seq, limit) as Array<{ seq: number; event_id: number; deleted_ms: number }>).map((t) => ({
      tombstone: { seq: t.seq, id: t.event_id, deletedAt: t.deleted_ms },
    }));
    const seqOf = (c: StoreChange) => ('event' in c ? c.event.seq : c.tombstone.seq);
    return [...events, ...tombstones].sort((a, b) => seqOf(a) - seqOf(b)).slice(0, limit);
  }

  /** The newest committed sequence number. */
  get lastCommittedSeq(): number {
    return this.lastSeq;
  }

  /** Changes at or below this may be gone (pruned tombstones): a reader further behind has a gap. */
  horizonSeq(): number {
    this.horizonStatement ??= this.db.prepare("SELECT value FROM meta WHERE key = 'horizon_seq'");
    return (this.horizonStatement.get() as { value: number }).value;
  }

  /** This store's name, made when it was created: a hub that sees it change knows the history was replaced. */
  get storeId(): string {
    this.identity ??= (this.db.prepare('SELECT store_id FROM store_identity').get() as { store_id: string }).store_id;
    return this.identity;
  }

  /** The snapshot recorded with this SHA-256 (frame or crop of any event), if an event still names it. */
  snapshotByHash(sha256: string): SnapshotRef | undefined {
    this.snapshotStatement ??= this.db.prepare(
      `SELECT snapshot_frame AS path, snapshot_frame_bytes AS bytes FROM events WHERE snapshot_frame_sha256 = @sha
       UNION ALL SELECT snapshot_crop, snapshot_crop_bytes FROM events WHERE snapshot_crop_sha256 = @sha LIMIT 1`,
    );
    const row = this.snapshotStatement.get({ sha: sha256 }) as { path: string; bytes: number } | undefined;
    return row ? { path: row.path, sha256, bytes: row.bytes } : undefined;
  }

  /** Events that ended at or after `since` (ms) and began at most a day before it, oldest first (on the start index). */
  endedSince(since: number): StoredEvent[] {
    return (this.db.prepare('SELECT * FROM events WHERE start_ms >= ? AND end_ms >= ? ORDER BY end_ms').all(since - 86_400_000, since) as Row[]).map(fromRow);
  }

  count(kind?: EventKind): number {
    const sql = kind ? 'SELECT COUNT(*) AS n FROM events WHERE kind = ?' : 'SELECT COUNT(*) AS n FROM events';
    return (this.db.prepare(sql).get(...(kind ? [kind] : [])) as { n: number }).n;
  }

  /**
   * The camera's latest object event (its start, ms): how long a camera has gone without seeing anything. Walks
   * the camera's newest events on the (camera, start) index until the first object event, so the cameras page,
   * which asks every few seconds, never reads the whole history (grouping all object events took 330 ms for
   * 116 cameras at 200k events).
   */
  lastObjectAt(camera: string): number | undefined {
    this.lastObjectStatement ??= this.db.prepare(LAST_OBJECT_SQL);
    return (this.lastObjectStatement.get(camera) as { start_ms: number } | undefined)?.start_ms;
  }

  /** Events per camera that started at or after `sinceMs` (the cameras page's "events today"). */

  countByCamera(sinceMs: number): Map<string, number> {
    const rows = this.db.prepare('SELECT camera, COUNT(*) AS n FROM events WHERE start_ms >= ? GROUP BY camera').all(sinceMs) as Array<{ camera: string; n: number }>;
    return new Map(rows.map((r) => [r.camera, r.n]));
  }

  /**
   * The store's own bytes: the database's pages in use, and the WAL. Pages freed by deleted events stay in
   * the file and are reused by new ones (SQLite never gives them back), so counting the file's size would
   * make retention believe deleting frees nothing, and delete every event on every run once the database
   * alone passed the budget. The file itself can stay at its high-water mark.
   */
  databaseBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const used = (this.db.pragma('page_count', { simple: true }) as number) - (this.db.pragma('freelist_count', { simple: true }) as number);
    let total = used * pageSize;
    for (const suffix of ['-wal', '-shm']) {
      try {
        total += statSync(this.file + suffix).size;
      } catch {
        // not there (yet)
      }
    }
    return total;
  }

  /** Bytes of the events' snapshots and clips. */
  mediaBytes(): number {
    return (this.db.prepare('SELECT COALESCE(SUM(snapshot_frame_bytes + snapshot_crop_bytes + clip_bytes), 0) AS b FROM events').get() as { b: number }).b;
  }

  /** Everything the disk budget counts: the database, snapshots, clips and recorded segments. */
  budgetBytes(): number {
    return this.databaseBytes() + this.mediaBytes() + this.segments.bytes();
  }

  /** Removes those of `segments` that `pinned` leaves free, rows before files (under `recordings`); returns how many. */
  removeSegments(segments: readonly Segment[], recordings: string, pinned: (segment: Segment) => boolean): number {
    const free = segments.filter((s) => !pinned(s));
    this.segments.remove(free);
    for (const s of free) rmSync(path.resolve(recordings, s.path), { force: true });
    return free.length;
  }

  /**
   * Deletes events older than `olderThan` (ms epoch) and continuous recording past its own retention, then
   * the oldest of those and of the ring's segments that ended before `ringBefore` until everything fits in
   * `maxBytes`; files go with their rows, after them. Segments `pinned` says an open event or an export still
   * needs are left alone.
   */
  enforceRetention(olderThan: number, maxBytes: number, roots: MediaRoots, pinned: (segment: Segment) => boolean = () => false, ringBefore = 0): RetentionResult {
    let deleted = 0;
    let segmentsDeleted = 0;
    const remove = (rows: Row[]) => {
      if (rows.length === 0) return;
      const del = this.db.prepare('DELETE FROM events WHERE id = ?');
      const tombstone = this.db.prepare('INSERT INTO tombstones (seq, event_id, deleted_ms) VALUES (?, ?, ?)');
      // Each deletion is a change with its own sequence number, committed with it, so a hub deletes its copy
      // too (the store's queued writes commit separately: this runs between two of their commits).
      const seqBefore = this.lastSeq;
      const now = Date.now();
      try {
        this.db.transaction(() => {
          for (const r of rows) {
            del.run(r.id);
            tombstone.run(++this.lastSeq, r.id, now);
          }
          this.stmts.seq.run(this.lastSeq);
        })();
      } catch (err) {
        this.lastSeq = seqBefore;
        throw err;
      }
      // Files after the rows: a crash in between leaves orphan files, never rows pointing at nothing.
      for (const r of rows) {
        for (const p of [r.snapshot_frame, r.snapshot_crop]) if (p) rmSync(path.resolve(roots.snapshots, p), { force: true });
        for (const c of JSON.parse(r.clips || '[]') as ClipRef[]) rmSync(path.resolve(roots.clips, c.path), { force: true });
      }
      deleted += rows.length;
    };
    const removeSegments = (segments: Segment[]) => {
      const removed = this.removeSegments(segments, roots.recordings, pinned);
      segmentsDeleted += removed;
      return removed;
    };
    this.pruneTombstones(Date.now() - TOMBSTONE_DAYS * 86_400_000);
    const old = this.db.prepare('SELECT * FROM events WHERE COALESCE(end_ms, start_ms) < ? ORDER BY start_ms LIMIT 500');
    for (let rows = old.all(olderThan) as Row[]; rows.length > 0; rows = old.all(olderThan) as Row[]) remove(rows);
    for (let expired = this.segments.keptExpired(Date.now()); expired.length > 0 && removeSegments(expired) > 0; expired = this.segments.keptExpired(Date.now()));
    // Over budget: free the oldest events (with their files) and the oldest recorded segments, whichever is
    // older first, until the excess is covered (databaseBytes counts pages in use, so the rows' pages count as
    // freed too).
    const dbBytes = this.databaseBytes();
    const excess = dbBytes + this.mediaBytes() + this.segments.bytes() - maxBytes;
    if (excess > 0) {
      // What a row and its index entries take, on average: a store of events without snapshots frees
      // that much per event, not nothing. Every table and index keeps at least its root page, whatever
      // is deleted: that part is not the rows'.
      const pageSize = this.db.pragma('page_size', { simple: true }) as number;
      const trees = (this.db.prepare('SELECT COUNT(*) AS n FROM sqlite_master WHERE rootpage > 0').get() as { n: number }).n;
      const rowBytes = Math.max(0, dbBytes - trees * pageSize) / Math.max(1, this.count());
      // Events still in progress are left alone: their recorder will write their end and best snapshot,
      // and an officer may be searching for what is happening now. Events a crash left open are closed when
      // the store opens (closeInterrupted), so they do not escape the budget.
      const oldest = this.db.prepare('SELECT * FROM events WHERE end_ms IS NOT NULL ORDER BY start_ms LIMIT 100 OFFSET ?');
      const doomed: Row[] = [];
      const doomedSegments: Segment[] = [];
      let events: Row[] = [];
      let kept: Segment[] = [];
      let eventOffset = 0;
      let keptOffset = 0;
      let freed = 0;
      while (freed < excess) {
        if (events.length === 0) {
          events = oldest.all(eventOffset) as Row[];
          eventOffset += events.length;
        }
        if (kept.length === 0) {
          kept = this.segments.oldest(ringBefore, 100, keptOffset);
          keptOffset += kept.length;
        }
        const e = events[0];
        const k = kept[0];
        if (!e && !k) break;
        if (e && (!k || e.start_ms <= k.start)) {
          events.shift();
          doomed.push(e);
          freed += e.snapshot_frame_bytes + e.snapshot_crop_bytes + e.clip_bytes + rowBytes;
        } else if (k) {
          kept.shift();
          if (pinned(k)) continue;
          doomedSegments.push(k);
          freed += k.bytes;
        }
      }
      remove(doomed);
      removeSegments(doomedSegments);
    }
    // The deletions went through the WAL, which keeps its size until a checkpoint truncates it: give the
    // space back now, or the budget would be met on paper only.
    if (deleted > 0 || segmentsDeleted > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    return { events: deleted, segments: segmentsDeleted };
  }

  /** Tombstones older than `before` (ms) go; the horizon moves past them. */
  pruneTombstones(before: number): number {
    return this.db.transaction(() => {
      const newest = (this.db.prepare('SELECT MAX(seq) AS seq FROM tombstones WHERE deleted_ms < ?').get(before) as { seq: number | null }).seq;
      if (newest === null) return 0;
      this.db.prepare("UPDATE meta SET value = MAX(value, ?) WHERE key = 'horizon_seq'").run(newest);
      return this.db.prepare('DELETE FROM tombstones WHERE seq <= ?').run(newest).changes;
    })();
  }

  close(): void {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    clearTimeout(this.timer);
    this.db.close();
  }

  /** A page of the events matching `filter` (events/sqlite-search.ts plans the query). */
  searchEvents(filter: SearchFilter, options: SearchPageOptions): SearchPage<StoredEvent> {
    const plan = planSearch(filter, options);
    return pageOf(this.db.prepare(plan.sql).all(...plan.params).map(eventFromRow), options);
  }

  /** SQLite's plan for a search, one step a line: tests and benchmarks check no search scans every event. */
  explainSearch(filter: SearchFilter, options: SearchPageOptions): string[] {
    const plan = planSearch(filter, options);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${plan.sql}`).all(...plan.params) as Array<{ detail: string }>).map((r) => r.detail);
  }

  /** SQLite's own check of the file ("ok" when sound): what a backup or a recovery test asks. */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  /**
   * Colour-like ({ colour, confidence, alternative }) and plate ({ text, confidence }) attributes become rows
   * searches can use an index for.
   */
  private indexAttributes(id: number, attributes: Record<string, unknown> | undefined): void {
    for (const [name, value] of Object.entries(attributes ?? {})) {
      if (!value || typeof value !== 'object') continue;
      const { colour: c0, text, confidence, alternative } = value as { colour?: unknown; text?: unknown; confidence?: unknown; alternative?: unknown };
      // A plate reading carries both text and the plate's colour: its text is what is searched.
      const colour = typeof text === 'string' ? text : c0;
      if (typeof colour !== 'string') continue;
      const c = typeof confidence === 'number' ? confidence : null;
      this.stmts.attributeInsert.run(name, colour, id, c);
      if (name === 'plate') this.stmts.plateTextInsert.run(id, colour);
      // The runner-up is findable too (a "silver" car read as white), ranked below the reading itself.
      if (typeof alternative === 'string') this.stmts.attributeInsert.run(name, alternative, id, c === null ? null : c / 2);
    }
  }

  private enqueue(apply: () => StoredEvent): Promise<StoredEvent> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ apply, resolve, reject });
      if (this.queue.length >= (this.options.batchSize ?? 200)) this.commit();
      else this.timer ??= setTimeout(() => this.commit(), this.options.flushMs ?? 100);
    });
  }

  private commit(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    const results: Array<StoredEvent | Error> = [];
    const seqBefore = this.lastSeq;
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          try {
            results.push(p.apply());
          } catch (err) {
            results.push(err as Error);
          }
        }
        this.stmts.seq.run(this.lastSeq);
      })();
    } catch (err) {
      this.lastSeq = seqBefore;
      for (const p of batch) p.reject(new Error(`event store commit failed: ${(err as Error).message}`));
      return;
    }
    const committed: StoredEvent[] = [];
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof Error) p.reject(r);
      else {
        committed.push(r);
        p.resolve(r);
      }
    });
    if (committed.length > 0) for (const l of this.listeners) l(committed);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`its schema version ${version} is newer than this vigil knows (${MIGRATIONS.length}): upgrade vigil`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }
}

function toRow(e: EventFields, seq: number, now: number): Omit<Row, 'id'> {
  return {
    seq,
    kind: e.kind,
    camera: e.camera,
    location: e.location,
    label: e.label ?? null,
    score: e.score ?? null,
    start_ms: e.start,
    end_ms: e.end ?? null,
    box: e.box ? JSON.stringify(e.box.map((v) => Math.round(v * 10) / 10)) : null,
    path: e.path ? JSON.stringify(e.path) : null,
    zones: JSON.stringify(e.zones ?? []),
    attributes: JSON.stringify(e.attributes ?? {}),
    snapshot_frame: e.frame?.path ?? null,
    snapshot_frame_sha256: e.frame?.sha256 ?? null,
    snapshot_crop: e.crop?.path ?? null,
    snapshot_crop_sha256: e.crop?.sha256 ?? null,
    snapshot_frame_bytes: e.frame?.bytes ?? 0,
    snapshot_crop_bytes: e.crop?.bytes ?? 0,
    frame_width: e.frameSize?.[0] ?? null,
    frame_height: e.frameSize?.[1] ?? null,
    updated_ms: now,
    clips: JSON.stringify(e.clips ?? []),
    clip_bytes: (e.clips ?? []).reduce((sum, c) => sum + c.bytes, 0),
  };
}

/** An events row, as search reads it (SELECT e.*), to the event it stores. */
export function eventFromRow(row: unknown): StoredEvent {
  return fromRow(row as Row);
}

function fromRow(r: Row): StoredEvent {
  const ref = (p: string | null, sha: string | null, bytes: number): SnapshotRef | null => (p && sha ? { path: p, sha256: sha, bytes } : null);
  return {
    id: r.id,
    seq: r.seq,
    kind: r.kind,
    camera: r.camera,
    location: r.location,
    label: r.label,
    score: r.score,
    start: r.start_ms,
    end: r.end_ms,
    box: r.box ? (JSON.parse(r.box) as number[]) : null,
    path: r.path ? (JSON.parse(r.path) as Array<[number, number, number]>) : null,
    zones: JSON.parse(r.zones) as string[],
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    frame: ref(r.snapshot_frame, r.snapshot_frame_sha256, r.snapshot_frame_bytes),
    crop: ref(r.snapshot_crop, r.snapshot_crop_sha256, r.snapshot_crop_bytes),
    frameSize: r.frame_width && r.frame_height ? [r.frame_width, r.frame_height] : null,
    clips: r.clips ? (JSON.parse(r.clips) as ClipRef[]) : [],
    updated: r.updated_ms,
  };
}
