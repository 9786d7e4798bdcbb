// The event store read from outside, as a tool or an auditor would: the rows' ids, sequence numbers and the
// snapshot files they name with their hashes. For tests that check the store after kills, retention or backups.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';

export interface StoredEvent {
  id: number;
  seq: number;
  start_ms: number;
  snapshot_frame: string | null;
  snapshot_frame_sha256: string | null;
  snapshot_crop: string | null;
  snapshot_crop_sha256: string | null;
}

export function storedEvents(db: Database.Database): StoredEvent[] {
  return db.prepare('SELECT id, seq, start_ms, snapshot_frame, snapshot_frame_sha256, snapshot_crop, snapshot_crop_sha256 FROM events').all() as StoredEvent[];
}

/** The snapshot files an event names (frame, then crop), relative to the snapshot folder, with their SHA-256. */
export function snapshotFiles(event: StoredEvent): Array<{ path: string; sha256: string }> {
  return [
    [event.snapshot_frame, event.snapshot_frame_sha256],
    [event.snapshot_crop, event.snapshot_crop_sha256],
  ].flatMap(([p, sha]) => (p ? [{ path: p, sha256: sha! }] : []));
}

export function sha256OfFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
