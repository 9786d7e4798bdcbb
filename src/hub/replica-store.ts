// What a station hub's store does besides answering searches: it holds each box's events as the box last
// committed them, and how far it has read each box's changes. A batch of changes and the box's new high-water
// sequence number are written in one transaction, so a hub that crashes at any instant neither loses nor
// doubles an event: it reads again from the sequence number it committed last.
import type { ChangeJson } from '../contract/types.js';
import type { EventQueries } from '../events/event-queries.js';

/** How far the hub has read a box's changes, and which of the box's event stores they came from. */
export interface BoxCursor {
  /** The box's store_id when the hub last read it; null before the first batch. */
  storeId: string | null;
  /** Every change at or below this sequence number is in the hub's store (or recorded as a gap). */
  lastSeq: number;
}

/** Changes the box can no longer serve: the hub records them, counts them, and never hides them. */
export interface ReplicaGap {
  fromSeq: number;
  toSeq: number;
  reason: string;
}

/** A snapshot copied (or not) from the box, by the SHA-256 recorded at capture. */
export interface AttachmentRecord {
  sha256: string;
  bytes: number;
  /** stored: verified and kept under the hub's data_dir; refused: its bytes did not hash to sha256; missing: the box no longer had it. */
  state: 'stored' | 'refused' | 'missing';
}

export interface ReplicaBatch {
  box: string;
  storeId: string;
  /** In sequence order; events as the box's /api/changes gives them, and tombstones of deleted ones. */
  changes: ChangeJson[];
  /** The cursor after this batch: usually the last change's seq, or the box's last_seq when nothing is left. */
  lastSeq: number;
  gaps: ReplicaGap[];
  attachments: AttachmentRecord[];
}

export interface AppliedBatch {
  inserted: number;
  updated: number;
  deleted: number;
  /** Tombstones for events the hub never had: deleted on the box before the hub read them (a gap too). */
  lost: number;
  /** When the transaction committed (ms): replication lag is measured to it. */
  committedAt: number;
}

export interface ReplicaStore extends EventQueries {
  cursor(box: string): Promise<BoxCursor>;
  /**
   * Writes the batch, its gaps and attachments, and the box's cursor in one transaction. Refuses (throws) a batch
   * whose changes do not follow the cursor it read (another writer moved it), so no two hub processes interleave.
   */
  apply(batch: ReplicaBatch, expected: BoxCursor): Promise<AppliedBatch>;
}
