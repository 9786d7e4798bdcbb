// Publishes committed events on ZeroMQ PUB, topic event.<kind>.<camera>, JSON body with the store's
// sequence number, in commit order. PUB drops messages for slow or absent subscribers by design; the
// store stays the source of truth and a subscriber backfills any gap by sequence number.
import { Publisher } from 'zeromq';
import type { Logger } from 'pino';
import type { StoredEvent } from '../events/store.js';
import { eventJson } from '../events/event-json.js';

export class EventBus {
  private readonly socket = new Publisher({ sendHighWaterMark: 10_000 });
  private readonly queue: Array<[string, string]> = [];
  private sending = false;
  private closed = false;

  private constructor(
    readonly endpoint: string,
    private readonly logger: Logger,
  ) {}

  static async bind(endpoint: string, logger: Logger): Promise<EventBus> {
    const bus = new EventBus(endpoint, logger.child({ component: 'bus' }));
    try {
      await bus.socket.bind(endpoint);
    } catch (err) {
      bus.socket.close();
      throw new Error(`cannot bind the event bus to ${endpoint} (${(err as Error).message}); change bus.publish in the config`);
    }
    return bus;
  }

  publish(events: StoredEvent[]): void {
    if (this.closed) return;
    for (const e of events) this.queue.push([`event.${e.kind}.${e.camera}`, JSON.stringify(eventJson(e))]);
    void this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    // Give queued messages a moment to leave before the socket goes.
    for (let i = 0; i < 20 && (this.sending || this.queue.length); i++) await new Promise((r) => setTimeout(r, 25));
    this.socket.linger = 200;
    this.socket.close();
  }

  /** ZeroMQ sockets take one send at a time: a queue keeps the order. */
  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length) {
        const message = this.queue.shift()!;
        await this.socket.send(message);
      }
    } catch (err) {
      this.logger.error({ err }, 'publishing an event failed');
    } finally {
      this.sending = false;
    }
  }
}
