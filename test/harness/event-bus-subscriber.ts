// A ZeroMQ SUB socket on the daemon's event bus that collects every event message until closed, with the
// time each arrived (tests that kill the daemon need to know what was published before the kill).
import { Subscriber } from 'zeromq';
import { sleep } from './wait.js';

export interface BusEvent {
  seq: number;
  id: number;
  kind: string;
  camera: string;
  label: string | null;
  start: string;
  end: string | null;
  snapshots?: { frame: { path: string; sha256: string } | null; crop: { path: string; sha256: string } | null };
}

export interface BusMessage {
  topic: string;
  event: BusEvent;
  /** Date.now() when the message arrived. */
  receivedAt: number;
}

export interface BusSubscription {
  messages: BusMessage[];
  close(): Promise<void>;
}

/** Subscribes to every event topic (`event.`) on `endpoint`; connect before the daemon binds, ZeroMQ retries. */
export async function subscribeBus(endpoint: string): Promise<BusSubscription> {
  const socket = new Subscriber();
  socket.connect(endpoint);
  socket.subscribe('event.');
  const messages: BusMessage[] = [];
  let open = true;
  const loop = (async () => {
    try {
      for await (const [topic, body] of socket) {
        messages.push({ topic: topic!.toString(), event: JSON.parse(body!.toString()) as BusEvent, receivedAt: Date.now() });
        if (!open) break;
      }
    } catch {
      // closed
    }
  })();
  return {
    messages,
    async close() {
      open = false;
      await sleep(300);
      socket.close();
      await loop;
    },
  };
}
