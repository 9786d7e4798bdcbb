// One box's replication into the hub's store. The box's ZeroMQ bus, when configured, brings each committed
// event within milliseconds; /api/changes is what makes it correct: read on start, after any outage, whenever the
// bus skips a sequence number (a dropped message, a tombstone, a restart of the box's bus) and every poll_s when
// the bus is quiet. Each batch is written with the box's new sequence number in one transaction
// (ReplicaStore.apply), so the hub can be killed at any instant and resumes exactly where it committed.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Subscriber } from 'zeromq';
import type { BoxStatusJson, ChangeJson, EventJson } from '../contract/types.js';
import { AttachmentMismatchError, type AttachmentStore } from './attachment-store.js';
import { BoxRequestError, type BoxClient } from './box-client.js';
import type { HubBoxConfig } from './hub-config.js';
import type { BoxReplicationState, HubMetrics } from './hub-metrics.js';
import type { AttachmentRecord, BoxCursor, ReplicaGap, ReplicaStore } from './replica-store.js';

export interface ReplicationSettings {
  pollMs: number;
  batch: number;
  backoffMaxMs: number;
  /** How often the box's status (cameras, places) is read. */
  statusMs: number;
}

export interface ReplicatorDeps {
  store: ReplicaStore;
  attachments: AttachmentStore;
  metrics: HubMetrics;
  logger: Logger;
  settings: () => ReplicationSettings;
  /** The hub's CURVE key pair, for boxes whose bus uses CURVE. */
  curve: { public_key: string; secret_key: string } | null;
}

/** The box's store was replaced (restored, reinstalled): its sequence numbers start over and mean other events. */
export class StoreReplacedError extends Error {
  constructor(box: string, was: string, now: string) {
    super(
      `box ${box}: its event store is not the one the hub replicated (store id ${now}, was ${was}); its sequence numbers now mean other events, ` +
        `so the hub stopped replicating it. Keep the old events under this name and replicate the new store as a new box: give it another name in the hub config (e.g. ${box}-2) and reload`,
    );
    this.name = 'StoreReplacedError';
  }
}

/** Bus messages held while a backfill runs; past this the bus is ignored until /api/changes catches up. */
const MAX_PENDING = 10_000;
const ATTACHMENT_FETCHES = 4;

export class BoxReplicator {
  private readonly pending: EventJson[] = [];
  private stopped = false;
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private statusLoop: Promise<void> | undefined;
  private subscriber: Subscriber | undefined;
  private up = false;
  private reachedOnce = false;
  private replaced = false;
  private lastLagS = 0;
  private caughtUp = false;
  private caughtUpAt: number | null = null;
  private lastSeq = 0;
  private backoffMs = 0;
  private lastStatus: BoxStatusJson | null = null;
  private statusAt: number | null = null;
  private lastError: string | null = null;
  private storeDown = false;

  constructor(
    readonly config: HubBoxConfig,
    /** The box's HTTP API as this replicator reaches it (the live relay uses it too). */
    readonly client: BoxClient,
    private readonly deps: ReplicatorDeps,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** The box's status as last read (cameras, places), and when. */
  get status(): { status: BoxStatusJson | null; at: number | null; up: boolean; error: string | null } {
    return { status: this.lastStatus, at: this.statusAt, up: this.up, error: this.lastError };
  }

  state(): BoxReplicationState {
    return { up: this.up, lastLagS: this.lastLagS, caughtUp: this.caughtUp, caughtUpAt: this.caughtUpAt, lastSeq: this.lastSeq };
  }

  /** Seconds the hub is behind the box: the gauge's value (0 while caught up). */
  lagSeconds(): number {
    const behind = this.caughtUp || this.caughtUpAt === null ? 0 : (Date.now() - this.caughtUpAt) / 1000;
    return Math.max(this.lastLagS, behind);
  }

  start(): void {
    if (this.config.bus) this.subscribe(this.config.bus.endpoint, this.config.bus.server_key);
    this.loop = this.run();
    this.statusLoop = this.watchStatus();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.wake?.();
    this.subscriber?.close();
    await Promise.all([this.loop, this.statusLoop]);
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.replaced) {
      try {
        const more = await this.step();
        this.markUp();
        if (this.storeDown) this.deps.logger.info({ box: this.name }, `replicating box ${this.name} into the hub's store again`);
        this.storeDown = false;
        this.backoffMs = 0;
        if (!more) await this.sleep(this.deps.settings().pollMs);
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof StoreReplacedError) {
          this.replaced = true;
          this.up = false;
          this.lastError = err.message;
          this.deps.logger.error({ box: this.name }, err.message);
          return;
        }
        if (err instanceof BoxRequestError) this.markDown(err);
        else this.storeFailed(err as Error);
        const max = this.deps.settings().backoffMaxMs;
        this.backoffMs = Math.min(max, this.backoffMs === 0 ? 500 : this.backoffMs * 2);
        await this.sleep(this.backoffMs);
      }
    }
  }

  /** One batch: from the bus when its messages follow on, otherwise from /api/changes. True when more is waiting. */
  private async step(): Promise<boolean> {
    const cursor = await this.deps.store.cursor(this.name);
    this.lastSeq = cursor.lastSeq;
    while (this.pending.length && this.pending[0]!.seq <= cursor.lastSeq) this.pending.shift();
    if (cursor.storeId !== null && this.pending.length && this.pending[0]!.seq === cursor.lastSeq + 1) {
      const run: EventJson[] = [];
      for (const e of this.pending) {
        if (run.length >= this.deps.settings().batch || e.seq !== cursor.lastSeq + run.length + 1) break;
        run.push(e);
      }
      this.pending.splice(0, run.length);
      await this.applyBatch(cursor, cursor.storeId, run, run.at(-1)!.seq, [], false);
      this.caughtUp = this.pending.length === 0;
      if (this.caughtUp) this.caughtUpAt = Date.now();
      return this.pending.length > 0;
    }
    const batch = this.deps.settings().batch;
    const page = await this.client.changes(cursor.lastSeq, batch);
    if (cursor.storeId !== null && page.store_id !== cursor.storeId) throw new StoreReplacedError(this.name, cursor.storeId, page.store_id);
    const gaps: ReplicaGap[] = [];
    // Tombstones the box pruned before this hub read them: deletions (and any event created and deleted meanwhile)
    // the hub cannot know of. A new hub has nothing to be stale about.
    if (cursor.lastSeq > 0 && cursor.lastSeq < page.horizon_seq) {
      gaps.push({ fromSeq: cursor.lastSeq + 1, toSeq: page.horizon_seq, reason: 'tombstones pruned on the box before the hub read them' });
    }
    const more = page.changes.length >= batch;
    const lastSeq = more ? page.changes.at(-1)!.seq : Math.max(page.last_seq, cursor.lastSeq);
    if (page.changes.length === 0 && gaps.length === 0 && lastSeq === cursor.lastSeq && cursor.storeId === page.store_id) {
      this.caughtUp = true;
      this.caughtUpAt = Date.now();
      return false;
    }
    await this.applyBatch(cursor, page.store_id, page.changes, lastSeq, gaps, true);
    this.caughtUp = !more;
    if (this.caughtUp) this.caughtUpAt = Date.now();
    return more;
  }

  private async applyBatch(cursor: BoxCursor, storeId: string, changes: ChangeJson[], lastSeq: number, gaps: ReplicaGap[], viaBackfill: boolean): Promise<void> {
    const attachments = await this.copyAttachments(changes);
    const applied = await this.deps.store.apply({ box: this.name, storeId, changes, lastSeq, gaps, attachments }, cursor);
    this.lastSeq = lastSeq;
    const lags = changes.flatMap((c) => ('deleted' in c || !c.updated ? [] : [Math.max(0, (applied.committedAt - Date.parse(c.updated)) / 1000)]));
    if (lags.length) this.lastLagS = lags.at(-1)!;
    this.deps.metrics.replicated(this.name, changes.length, viaBackfill, lags);
    const gapChanges = gaps.reduce((n, g) => n + (g.toSeq - g.fromSeq + 1), 0) + applied.lost;
    if (gapChanges > 0) {
      this.deps.metrics.gap(this.name, gapChanges);
      this.deps.logger.warn({ box: this.name, gaps, lost: applied.lost }, `box ${this.name}: ${gapChanges} changes could no longer be read from the box (recorded as gaps)`);
    }
  }

  /**
   * Copies the batch's snapshots the hub does not hold yet, each verified against the hash recorded at capture.
   * One that does not match is refused and counted, one the box no longer has is counted; the events are written
   * either way. A box that cannot be reached fails the batch, which is tried again whole.
   */
  private async copyAttachments(changes: ChangeJson[]): Promise<AttachmentRecord[]> {
    const wanted = new Map<string, number>();
    for (const c of changes) {
      if ('deleted' in c) continue;
      for (const s of [c.snapshots.frame, c.snapshots.crop]) if (s) wanted.set(s.sha256, s.bytes ?? 0);
    }
    const records: AttachmentRecord[] = [];
    const queue = [...wanted];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [sha256, bytes] = next;
        if (this.deps.attachments.has(sha256)) {
          records.push({ sha256, bytes, state: 'stored' });
          continue;
        }
        let body: Buffer | null;
        try {
          body = await this.client.attachment(sha256);
        } catch (err) {
          if (err instanceof BoxRequestError && err.status === 409) {
            this.refused(sha256, err.message);
            records.push({ sha256, bytes, state: 'refused' });
            continue;
          }
          this.deps.metrics.attachmentError(this.name, 'fetch');
          throw err;
        }
        if (body === null) {
          this.deps.metrics.attachmentError(this.name, 'missing');
          records.push({ sha256, bytes, state: 'missing' });
          continue;
        }
        try {
          this.deps.attachments.keep(sha256, body);
          records.push({ sha256, bytes: body.length, state: 'stored' });
        } catch (err) {
          if (!(err instanceof AttachmentMismatchError)) throw err;
          this.refused(sha256, err.message);
          records.push({ sha256, bytes, state: 'refused' });
        }
      }
    };
    await Promise.all(Array.from({ length: ATTACHMENT_FETCHES }, worker));
    return records;
  }

  private refused(sha256: string, why: string): void {
    this.deps.metrics.attachmentError(this.name, 'refused');
    this.deps.logger.error({ box: this.name, sha256 }, `box ${this.name}: snapshot ${sha256} refused: ${why}`);
  }

  private subscribe(endpoint: string, serverKey: string | null): void {
    const socket = new Subscriber();
    if (serverKey && this.deps.curve) {
      socket.curveServerKey = serverKey;
      socket.curvePublicKey = this.deps.curve.public_key;
      socket.curveSecretKey = this.deps.curve.secret_key;
    }
    socket.connect(endpoint);
    socket.subscribe('event.');
    this.subscriber = socket;
    void (async () => {
      try {
        for await (const [, body] of socket) {
          if (this.stopped) break;
          try {
            const event = JSON.parse(body!.toString()) as EventJson;
            if (typeof event.seq !== 'number') continue;
            if (this.pending.length >= MAX_PENDING) this.pending.length = 0;
            this.pending.push(event);
            this.caughtUp = false;
            this.wake?.();
          } catch {
            // not an event: /api/changes is the truth anyway
          }
        }
      } catch {
        // closed
      }
    })();
  }

  private async watchStatus(): Promise<void> {
    while (!this.stopped && !this.replaced) {
      try {
        this.lastStatus = await this.client.status();
        this.statusAt = Date.now();
        this.markUp();
      } catch (err) {
        if (this.stopped) return;
        this.markDown(err as Error);
      }
      await this.sleepFixed(this.deps.settings().statusMs);
    }
  }

  /** The hub's own store failed (PostgreSQL restarting): the box is fine, the batch is tried again whole. */
  private storeFailed(err: Error): void {
    if (!this.storeDown) this.deps.logger.warn({ box: this.name, err: err.message }, `cannot replicate box ${this.name} into the hub's store: ${err.message}; retrying`);
    this.storeDown = true;
    this.caughtUp = false;
  }

  private markUp(): void {
    if (!this.up) this.deps.logger.info({ box: this.name }, this.reachedOnce ? `box ${this.name} is reachable again` : `box ${this.name} reached`);
    this.up = true;
    this.reachedOnce = true;
    this.lastError = null;
  }

  private markDown(err: Error): void {
    if (this.up || this.lastError === null) this.deps.logger.warn({ box: this.name, err: err.message }, `box ${this.name} unreachable: ${err.message}; retrying`);
    this.up = false;
    this.caughtUp = false;
    this.lastError = err.message;
  }

  /** Waits up to `ms`, or until a bus message or stop wakes it. */
  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.pending.length && this.pending[0]!.seq === this.lastSeq + 1) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private sleepFixed(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}
