// Retention, every minute and at start: events older than store.retention_days and then the oldest until the
// store and snapshots fit store.max_disk_gb go, with their files; closed audit files past their retention too.
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { StoreConfig } from '../config/schema.js';
import type { EventStore } from '../events/store.js';
import type { VigilMetrics } from '../metrics/metrics.js';

const EVERY_MS = 60_000;

export class Retention {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { store: EventStore; snapshotRoot: string; audit: AuditLog; metrics: VigilMetrics; logger: Logger },
    /** Read at every run: a reload may change it. */
    private readonly settings: () => StoreConfig,
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
    const { store, snapshotRoot, audit, metrics, logger } = this.deps;
    const { retention_days, max_disk_gb } = this.settings();
    // Set beside the retention it describes: the gauge always shows the budget being enforced, also after a
    // reload changed it.
    metrics.setStoreBudget(max_disk_gb * 1e9);
    const deleted = store.enforceRetention(Date.now() - retention_days * 86_400_000, max_disk_gb * 1e9, snapshotRoot);
    if (deleted > 0) logger.info({ deleted }, 'retention removed old events');
    const auditFiles = audit.prune();
    if (auditFiles > 0) logger.info({ files: auditFiles }, 'audit retention removed closed audit files');
  }
}
