// Publishes committed events on ZeroMQ, topic event.<kind>.<camera>, JSON body with the store's
// sequence number, in commit order. PUB drops messages for slow or absent subscribers by design; the
// store stays the source of truth and a subscriber backfills any gap by sequence number.
//
// The socket itself lives in a child process (bus-process.ts): whatever peers make libzmq hold (a flood of
// subscriptions, thousands of connections) grows that process, never the daemon, and when it passes
// MEMORY_BUDGET_BYTES above what it started with, or dies, this replaces it. Subscribers reconnect and
// subscribe again by themselves, and backfill what they missed meanwhile like any other gap.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { StoredEvent } from '../events/store.js';
import { eventJson } from '../events/event-json.js';
import type { FromBus, ToBus } from './bus-process.js';
import { eventTopic } from './topics.js';

export interface BusCurve {
  public_key: string;
  secret_key: string;
  clients: string[];
}

export interface BusOptions {
  /** CURVE keys and the admitted subscribers' public keys; null: plain ZMTP (loopback only, see schema). */
  curve?: BusCurve | null;
  /** Camera names whose topics subscribers may subscribe to; change with setCameras(). */
  cameras?: readonly string[];
  observer?: BusObserver;
}

/** What the bus turned away, for metrics: counts since the last call. */
export interface BusObserver {
  subscriptionsRefused?(count: number): void;
  clientsRefused?(count: number): void;
  restarted?(reason: 'memory' | 'exited'): void;
}

/**
 * What the bus process may hold beyond its size at start: stalled subscribers' queues (sendHighWaterMark
 * 10,000 events of ~1 KB, a few such subscribers) fit; a flood of junk subscriptions (measured: +1.2 GB for
 * 200k) does not, and the process is replaced.
 */
export const MEMORY_BUDGET_BYTES = 64 * 1024 * 1024;
/** A flood grows the process by up to ~500 MB/s on loopback: checked this often, it overshoots ~25-70 MB. */
const WATCH_MS = 50;
const START_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 3_000;
/** Publish batches waiting in this process while the bus process is busy; more are dropped, as PUB would. */
const MAX_UNSENT = 1_000;
/** Replacements back off, so that a peer flooding without pause costs a process start per half minute at most. */
const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const BUS_PROCESS = new URL(FROM_SOURCE ? './bus-process.ts' : './bus-process.js', import.meta.url);
// Under the TypeScript sources (tests) the bus process loads through tsx, found from here, not the cwd.
const EXEC_ARGV = FROM_SOURCE ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];

function rssBytes(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined; // gone, or no /proc (not Linux): no memory cap then
  }
}

export class EventBus {
  private child: ChildProcess | undefined;
  private ready = false;
  private closed = false;
  private everBound = false;
  private unsent = 0;
  private cameras: string[];
  private memoryLimit = Infinity;
  private startedAt = 0;
  private restartDelay = RESTART_MIN_MS;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly watchTimer: NodeJS.Timeout;
  private counts = { refusedSubscriptions: 0, refusedClients: 0, restarts: 0, dropped: 0 };

  private constructor(
    /** The endpoint bound: bus.publish, with a wildcard port resolved, so a replacement binds the same. */
    public endpoint: string,
    private readonly logger: Logger,
    private readonly options: BusOptions,
  ) {
    this.cameras = [...(options.cameras ?? [])];
    this.watchTimer = setInterval(() => this.watch(), WATCH_MS).unref();
  }

  static async bind(endpoint: string, logger: Logger, options: BusOptions = {}): Promise<EventBus> {
    const bus = new EventBus(endpoint, logger.child({ component: 'bus' }), options);
    try {
      await bus.start();
    } catch (err) {
      await bus.close();
      throw new Error(`cannot bind the event bus to ${endpoint} (${(err as Error).message}); change bus.publish in the config`);
    }
    return bus;
  }

  /** Subscriptions refused since start because no topic of this box can match them. */
  get refusedSubscriptions(): number {
    return this.counts.refusedSubscriptions;
  }

  /** CURVE handshakes refused: a key not in bus.curve.clients, or no CURVE at all. */
  get refusedClients(): number {
    return this.counts.refusedClients;
  }

  /** Times the bus process was replaced (memory cap, or it died). */
  get restarts(): number {
    return this.counts.restarts;
  }

  /** Events not published because the bus process was being replaced or could not keep up. */
  get dropped(): number {
    return this.counts.dropped;
  }

  /** The pid of the process that owns the socket now, for tests and diagnostics. */
  get processId(): number | undefined {
    return this.ready ? this.child?.pid : undefined;
  }

  /** Cameras change on a reload: subscriptions to a new camera are accepted from now on. */
  setCameras(names: readonly string[]): void {
    this.cameras = [...names];
    this.tell({ t: 'cameras', cameras: this.cameras });
  }

  publish(events: StoredEvent[]): void {
    if (this.closed || events.length === 0) return;
    const messages = events.map((e): [string, string] => [eventTopic(e.kind, e.camera), JSON.stringify(eventJson(e))]);
    if (!this.ready || this.unsent >= MAX_UNSENT || !this.tell({ t: 'publish', messages })) this.counts.dropped += messages.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchTimer);
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // After the publishes already sent: the bus process sends what it holds (briefly), then exits.
    if (!this.tell({ t: 'close' })) child.kill('SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private tell(message: ToBus): boolean {
    const child = this.child;
    if (!child?.connected) return false;
    this.unsent++;
    child.send(message, () => this.unsent--);
    return true;
  }

  private start(): Promise<void> {
    const child = fork(BUS_PROCESS, [], {
      execArgv: EXEC_ARGV,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    this.ready = false;
    this.startedAt = 0;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`the bus process did not start within ${START_TIMEOUT_MS / 1000} s`));
        child.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      child.on('message', (message: FromBus) => {
        if (message.t === 'bound') {
          clearTimeout(timer);
          this.endpoint = message.endpoint;
          this.ready = this.everBound = true;
          this.startedAt = Date.now();
          this.memoryLimit = (rssBytes(child.pid!) ?? Infinity) + MEMORY_BUDGET_BYTES;
          resolve();
        } else if (message.t === 'error') {
          clearTimeout(timer);
          reject(new Error(message.message));
        } else if (message.t === 'stats') {
          this.counted(message.refusedSubscriptions, message.refusedClients);
        }
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the bus process exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
        this.exited(child, code, signal, stderr);
      });
      child.send({ t: 'init', endpoint: this.endpoint, curve: this.options.curve ?? null, cameras: this.cameras } satisfies ToBus);
    });
  }

  private counted(subscriptions: number, clients: number): void {
    this.counts.refusedSubscriptions += subscriptions;
    this.counts.refusedClients += clients;
    if (subscriptions) this.options.observer?.subscriptionsRefused?.(subscriptions);
    if (clients) this.options.observer?.clientsRefused?.(clients);
  }

  private watch(): void {
    const child = this.child;
    if (!this.ready || !child?.pid) return;
    const rss = rssBytes(child.pid);
    if (rss === undefined || rss <= this.memoryLimit) return;
    this.logger.warn(
      { rss_mb: Math.round(rss / 1048576), limit_mb: Math.round(this.memoryLimit / 1048576) },
      'the event bus process outgrew its memory cap (a peer flooding it with subscriptions or connections?): replacing it; subscribers reconnect',
    );
    this.ready = false;
    this.counts.restarts++;
    this.options.observer?.restarted?.('memory');
    child.kill('SIGKILL');
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    if (child !== this.child) return;
    const wasReady = this.ready;
    this.ready = false;
    if (this.closed || !this.everBound) return;
    if (wasReady) {
      this.counts.restarts++;
      this.options.observer?.restarted?.('exited');
      this.logger.error({ code, signal, stderr: stderr.trim() || undefined }, 'the event bus process died: starting another');
    }
    const ranFor = this.startedAt ? Date.now() - this.startedAt : 0;
    const delay = ranFor > STABLE_AFTER_MS ? RESTART_MIN_MS : this.restartDelay;
    this.restartDelay = Math.min(delay * 2, RESTART_MAX_MS);
    this.restartTimer = setTimeout(() => {
      this.start().then(
        () => this.logger.info({ endpoint: this.endpoint }, 'event bus process replaced'),
        (err: Error) => this.logger.error({ err: err.message }, 'cannot start the event bus process again; retrying'),
      );
    }, delay);
  }
}
