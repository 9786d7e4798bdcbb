// The index of every recorded segment: which camera, which ffmpeg run (the segments of one run play back to
// back), when, which file, its size and the SHA-256 of its bytes taken as ffmpeg closed it. It lives in the
// event store's database (one file, one budget) but is not part of the event history: segments get no
// sequence numbers and are not replicated. Writes are batched into one transaction a second: a box with
// sixteen cameras closes ~16 segments a second, and a commit each would be sixteen fsyncs.
import type Database from 'better-sqlite3';

export interface Segment {
  id: number;
  camera: string;
  /** One ffmpeg run: its segments' timestamps follow on, so they can be joined byte for byte. */
  run: string;
  /** Order within the run. */
  idx: number;
  /** Relative to the recordings folder. */
  path: string;
  start: number;
  end: number;
  bytes: number;
  sha256: string;
  /** Continuous recording: kept until then (ms). Null: only in the ring, for event clips. */
  keepUntil: number | null;
  /** The stream ended after this segment (the camera dropped, or vigil stopped it). */
  last: boolean;
}

export type NewSegment = Omit<Segment, 'id'>;

/** A run of segments that play back to back: what GET /api/recordings lists. */
export interface RecordingSpan {
  camera: string;
  run: string;
  start: number;
  end: number;
  bytes: number;
  segments: number;
  continuous: boolean;
  /** The stream ended at `end` (rather than the span being cut by the window asked for, or still going on). */
  ended: boolean;
}

interface Row {
  id: number;
  camera: string;
  run: string;
  idx: number;
  path: string;
  start_ms: number;
  end_ms: number;
  bytes: number;
  sha256: string;
  keep_until_ms: number | null;
  last: number;
}

export const SEGMENTS_MIGRATION = `CREATE TABLE segments (
     id INTEGER PRIMARY KEY,
     camera TEXT NOT NULL,
     run TEXT NOT NULL,
     idx INTEGER NOT NULL,
     path TEXT NOT NULL UNIQUE,
     start_ms INTEGER NOT NULL,
     end_ms INTEGER NOT NULL,
     bytes INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     keep_until_ms INTEGER,
     last INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX segments_camera_end ON segments (camera, end_ms);
   CREATE INDEX segments_start ON segments (start_ms);`;

const FLUSH_MS = 1000;

export class SegmentIndex {
  private readonly queue: NewSegment[] = [];
  private timer: NodeJS.Timeout | undefined;
  private total: number | undefined;
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      insert: db.prepare(`INSERT OR IGNORE INTO segments (camera, run, idx, path, start_ms, end_ms, bytes, sha256, keep_until_ms, last)
        VALUES (@camera, @run, @idx, @path, @start, @end, @bytes, @sha256, @keepUntil, @last)`),
      window: db.prepare('SELECT * FROM segments WHERE camera = ? AND end_ms > ? AND start_ms < ? ORDER BY id'),
      newest: db.prepare('SELECT * FROM segments WHERE camera = ? ORDER BY id DESC LIMIT 1'),
      byPath: db.prepare('SELECT * FROM segments WHERE path = ?'),
      delete: db.prepare('DELETE FROM segments WHERE id = ?'),
      markLast: db.prepare('UPDATE segments SET last = 1 WHERE id = (SELECT id FROM segments WHERE camera = ? AND run = ? ORDER BY idx DESC LIMIT 1)'),
      ringExpired: db.prepare('SELECT * FROM segments WHERE keep_until_ms IS NULL AND end_ms < ? ORDER BY id LIMIT 1000'),
      keptExpired: db.prepare('SELECT * FROM segments WHERE keep_until_ms IS NOT NULL AND keep_until_ms < ? ORDER BY id LIMIT 1000'),
      oldest: db.prepare('SELECT * FROM segments WHERE keep_until_ms IS NOT NULL OR end_ms < ? ORDER BY start_ms LIMIT ? OFFSET ?'),
    };
  }

  /** Queued, committed within a second (flush() commits at once). */
  add(segment: NewSegment): void {
    this.queue.push(segment);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
    this.timer.unref?.();
  }

  /** Notes that the run's stream ended after its newest segment (committed with the queued ones). */
  runEnded(camera: string, run: string): void {
    this.flush();
    this.stmts.markLast.run(camera, run);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    this.db.transaction(() => {
      for (const s of batch) {
        const { changes } = this.stmts.insert.run({ ...s, last: s.last ? 1 : 0 });
        if (changes && this.total !== undefined) this.total += s.bytes;
      }
    })();
  }

  /** The camera's segments overlapping [from, to), in the order they were recorded. */
  window(camera: string, from: number, to: number): Segment[] {
    this.flush();
    return (this.stmts.window.all(camera, from, to) as Row[]).map(fromRow);
  }

  newest(camera: string): Segment | undefined {
    this.flush();
    const row = this.stmts.newest.get(camera) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  byPath(relative: string): Segment | undefined {
    const row = this.stmts.byPath.get(relative) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** What exists on `camera` in [from, to): runs of segments that play back to back. */
  spans(camera: string, from: number, to: number): RecordingSpan[] {
    const spans: RecordingSpan[] = [];
    let current: RecordingSpan | undefined;
    let lastIdx = -2;
    for (const s of this.window(camera, from, to)) {
      if (current && current.run === s.run && s.idx === lastIdx + 1) {
        current.end = s.end;
        current.bytes += s.bytes;
        current.segments++;
        current.continuous &&= s.keepUntil !== null;
        current.ended = s.last;
      } else {
        current = { camera, run: s.run, start: s.start, end: s.end, bytes: s.bytes, segments: 1, continuous: s.keepUntil !== null, ended: s.last };
        spans.push(current);
      }
      lastIdx = s.idx;
    }
    return spans;
  }

  /** Bytes of every indexed segment (counted once, then kept up to date). */
  bytes(): number {
    this.flush();
    this.total ??= (this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM segments').get() as { b: number }).b;
    return this.total;
  }

  /** Ring segments that ended before `before`, oldest first. */
  ringExpired(before: number): Segment[] {
    this.flush();
    return (this.stmts.ringExpired.all(before) as Row[]).map(fromRow);
  }

  /** Continuous segments past their retention. */
  keptExpired(now: number): Segment[] {
    this.flush();
    return (this.stmts.keptExpired.all(now) as Row[]).map(fromRow);
  }

  /** Continuous segments, and ring segments that ended before `ringBefore`, oldest first: what the disk budget frees beside old events. */
  oldest(ringBefore: number, limit: number, offset: number): Segment[] {
    this.flush();
    return (this.stmts.oldest.all(ringBefore, limit, offset) as Row[]).map(fromRow);
  }

  /** Removes the rows (the caller removes the files after: a crash between leaves a file, never a row naming nothing). */
  remove(segments: readonly Segment[]): void {
    if (segments.length === 0) return;
    this.db.transaction(() => {
      for (const s of segments) {
        const { changes } = this.stmts.delete.run(s.id);
        if (changes && this.total !== undefined) this.total -= s.bytes;
      }
    })();
  }

  /** Every indexed path (the start-up sweep removes files no row names). */
  paths(): Set<string> {
    this.flush();
    return new Set((this.db.prepare('SELECT path FROM segments').pluck().all() as string[]));
  }
}

function fromRow(r: Row): Segment {
  return {
    id: r.id,
    camera: r.camera,
    run: r.run,
    idx: r.idx,
    path: r.path,
    start: r.start_ms,
    end: r.end_ms,
    bytes: r.bytes,
    sha256: r.sha256,
    keepUntil: r.keep_until_ms,
    last: r.last === 1,
  };
}
