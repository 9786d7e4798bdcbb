// What operations watch at a hub, per box: whether the hub reaches it, how far behind its events are, how many
// arrived (and how many by backfill rather than the bus), gaps the box could no longer serve, and snapshots
// refused or missing. Alert rules and the dashboard row read these names (deploy/prometheus, deploy/grafana).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type AttachmentErrorReason = 'refused' | 'missing' | 'fetch';

/** One box's replication, as the gauges read it at scrape time. */
export interface BoxReplicationState {
  up: boolean;
  /** Lag of the latest event applied (s), commit on the box to commit at the hub. */
  lastLagS: number;
  /** When the hub last knew it held everything the box had committed (ms), or null before the first time. */
  caughtUpAt: number | null;
  /** Whether it holds everything now. */
  caughtUp: boolean;
  lastSeq: number;
}

export class HubMetrics {
  readonly registry = new Registry();
  private readonly sources = new Map<string, () => BoxReplicationState>();
  private readonly events = new Counter({ name: 'vigil_hub_events_total', help: 'Changes replicated from the box (events written or deleted at the hub)', labelNames: ['box'], registers: [this.registry] });
  private readonly backfill = new Counter({ name: 'vigil_hub_backfill_events_total', help: 'Of those, changes that came through /api/changes rather than the bus', labelNames: ['box'], registers: [this.registry] });
  private readonly gaps = new Counter({ name: 'vigil_hub_gaps_total', help: 'Changes the box could no longer serve (deleted before the hub read them)', labelNames: ['box'], registers: [this.registry] });
  private readonly attachmentErrors = new Counter({ name: 'vigil_hub_attachment_errors_total', help: 'Snapshots not copied: refused (did not match the capture hash), missing on the box, or fetch failures', labelNames: ['box', 'reason'], registers: [this.registry] });
  private readonly eventLag = new Histogram({
    name: 'vigil_hub_event_lag_seconds',
    help: 'Per event, seconds from its commit on the box to its commit at the hub',
    labelNames: ['box'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const sources = this.sources;
    new Gauge({
      name: 'vigil_hub_box_up',
      help: '1 while the hub reaches the box, 0 while it does not',
      labelNames: ['box'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [box, read] of sources) this.set({ box }, read().up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'vigil_hub_replication_lag_seconds',
      help: 'Seconds from commit on the box to commit at the hub, for the latest event; while the hub is behind or the box unreachable, at least the seconds since it was last caught up',
      labelNames: ['box'],
      registers: [this.registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const [box, read] of sources) {
          const s = read();
          const behind = s.caughtUp ? 0 : s.caughtUpAt === null ? 0 : (now - s.caughtUpAt) / 1000;
          this.set({ box }, Math.max(s.lastLagS, behind));
        }
      },
    });
    new Gauge({
      name: 'vigil_hub_last_seq',
      help: 'The box\'s sequence number up to which the hub holds every change',
      labelNames: ['box'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [box, read] of sources) this.set({ box }, read().lastSeq);
      },
    });
  }

  /** A box joins the gauges (its counters start at zero so that rate() and alerts see it at once). */
  addBox(box: string, state: () => BoxReplicationState): void {
    this.sources.set(box, state);
    this.events.inc({ box }, 0);
    this.backfill.inc({ box }, 0);
    this.gaps.inc({ box }, 0);
    for (const reason of ['refused', 'missing', 'fetch'] as const) this.attachmentErrors.inc({ box, reason }, 0);
  }

  removeBox(box: string): void {
    this.sources.delete(box);
    for (const metric of [this.events, this.backfill, this.gaps, this.eventLag]) metric.remove({ box });
    for (const reason of ['refused', 'missing', 'fetch'] as const) this.attachmentErrors.remove({ box, reason });
  }

  replicated(box: string, changes: number, viaBackfill: boolean, lagsS: number[]): void {
    this.events.inc({ box }, changes);
    if (viaBackfill) this.backfill.inc({ box }, changes);
    for (const lag of lagsS) this.eventLag.observe({ box }, lag);
  }

  gap(box: string, changes: number): void {
    this.gaps.inc({ box }, changes);
  }

  attachmentError(box: string, reason: AttachmentErrorReason): void {
    this.attachmentErrors.inc({ box, reason });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
