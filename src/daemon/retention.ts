// Retention, every minute and at start: events older than store.retention_days, continuous recording past its
// own retention_days, ring segments no clip can need any more, and then the oldest events and recordings until
// everything fits store.max_disk_gb (and the disk keeps recording.min_free_mb free) go, with their files;
// closed audit files past their retention too.
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { RecordingConfig, StoreConfig } from '../config/schema.js';
import type { EventStore, MediaRoots } from '../events/store.js';
import type { VigilMetrics } from '../metrics/metrics.js';
import { freeBytes } from '../recording/free-space.js';
import type { Segment } from '../recording/segment-index.js';

const EVERY_MS = 60_000;
/**
 * Over the budget, ring segments go with the oldest events and recordings, all but the last minute: the next
 * event's pre_s (at most 60 s) comes from it. The rest of the ring only serves clips a crash left unmade.
 */
const RING_KEPT_MS = 60_000;

export interface RetentionDeps {
  store: EventStore;
  roots: MediaRoots;
  audit: AuditLog;
  metrics: VigilMetrics;
  logger: Logger;
  /** Segments an open event, a clip being made or an export in progress still needs. */
  pinned: (segment: Segment) => boolean;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: RetentionDeps,
    /** Read at every run: a reload may change them. */
    private readonly settings: () => { store: StoreConfig; recording: RecordingConfig },
  ) {}

  start(): void {
    this.run();
    this.timer = setInterval(() => this.run(), EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  run(): void {
    const { store, roots, audit, metrics, logger, pinned } = this.deps;
    const { store: { retention_days, max_disk_gb }, recording } = this.settings();
    // Set beside the retention it describes: the gauge always shows the budget being enforced, also after a
    // reload changed it.
    metrics.setStoreBudget(max_disk_gb * 1e9);
    const ring = this.expireRing(Date.now() - recording.ring_minutes * 60_000);
    // The disk itself may be smaller than the budget, or shared: keep min_free_mb free on it as well.
    let budget = max_disk_gb * 1e9;
    const shortBy = recording.min_free_mb * 1e6 - freeBytes(roots.recordings);
    if (shortBy > 0) {
      budget = Math.min(budget, store.budgetBytes() - shortBy);
      logger.warn({ short_mb: Math.round(shortBy / 1e6) }, 'the disk under data_dir is nearly full: retention frees the oldest events and recordings');
    }
    const { events, segments } = store.enforceRetention(Date.now() - retention_days * 86_400_000, budget, roots, pinned, Date.now() - RING_KEPT_MS);
    if (events > 0) logger.info({ deleted: events }, 'retention removed old events');
    if (segments > 0 || ring > 0) logger.info({ segments, ring_segments: ring }, 'retention removed recorded segments');
    const auditFiles = audit.prune();
    if (auditFiles > 0) logger.info({ files: auditFiles }, 'audit retention removed closed audit files');
  }

  /** Ring segments (cameras not recorded continuously) older than the ring, unless still needed. */
  private expireRing(before: number): number {
    const { store, roots, pinned } = this.deps;
    let removed = 0;
    for (let batch = store.segments.ringExpired(before); batch.length > 0; ) {
      const freed = store.removeSegments(batch, roots.recordings, pinned);
      removed += freed;
      if (freed < batch.length) break;
      batch = store.segments.ringExpired(before);
    }
    return removed;
  }
}
