// The event bus's socket, in a child process of the daemon (event-bus.ts starts, feeds and watches it).
// libzmq reads peers' subscriptions inside whatever call the owning thread makes on the socket, adds each
// to a trie, and keeps reading for as long as a peer keeps sending; even an XPUB in manual mode records
// every subscription it receives (libzmq 4.3, to unsubscribe upstream when the peer leaves). So a flood of
// junk subscriptions blocked the daemon's thread and grew it without bound (200k: +1.2 GB). Here it can
// only block and grow this process, which the daemon replaces past its memory cap. Manual mode still earns
// its place: only subscriptions that can match a real topic reach the trie publishing matches against,
// and the others are counted.
//
// Messages from the daemon (IPC): init, publish, cameras, close. To the daemon: bound | error, stats.
import { context, XPublisher } from 'zeromq';
import { CurveAuthenticator } from './curve-auth.js';
import { subscriptionCanMatch } from './topics.js';

export interface BusInit {
  t: 'init';
  endpoint: string;
  curve: { public_key: string; secret_key: string; clients: string[] } | null;
  cameras: string[];
}
export type ToBus = BusInit | { t: 'publish'; messages: Array<[string, string]> } | { t: 'cameras'; cameras: string[] } | { t: 'close' };
export type FromBus =
  | { t: 'bound'; endpoint: string }
  | { t: 'error'; message: string }
  | { t: 'stats'; refusedSubscriptions: number; refusedClients: number };

/**
 * Peers only ever send subscriptions here, the longest a real one is 77 bytes, and a CURVE handshake's
 * INITIATE about 300: a frame announcing more is a peer to drop before libzmq allocates for it.
 */
export const MAX_MESSAGE_BYTES = 1024;
/**
 * How often an idle bus looks for subscriptions (see run()): what a new subscriber waits at most before
 * events reach it, like libzmq's own reconnect interval (20 ms cost 1.3% of a core idle, 100 ms 0.4%).
 */
const IDLE_POLL_MS = 100;
/** Subscriptions handled before queued events get a turn, so a flood cannot starve publishing. */
const SUBSCRIPTIONS_PER_TURN = 100;
/** What close() waits for queued events to leave, then what libzmq may take to flush them. */
const CLOSE_DRAIN_MS = 500;
const CLOSE_LINGER_MS = 200;
/**
 * A predecessor (the bus process of a daemon that was just killed, or the one being replaced) may hold the
 * port for a moment after it was told to go: retry that long before calling the port taken.
 */
const BIND_RETRY_MS = 2000;

const ZMQ_SUBSCRIBE = 6;
const ZMQ_UNSUBSCRIBE = 7;

/** An XPUB whose subscriptions the owner applies: zeromq.js has subscribe() only on Subscriber. */
class ManualXPublisher extends XPublisher {
  /** Applies to the peer whose subscription message was read last (libzmq's manual mode). */
  apply(subscribe: boolean, topic: Buffer): void {
    this.setStringOption(subscribe ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, topic);
  }
}

const send = (message: FromBus) => process.send?.(message);

class Bus {
  private readonly queue: Array<[string, string]> = [];
  private cameras: Set<string>;
  private closing = false;
  private wake: (() => void) | undefined;
  private refusedSubscriptions = 0;
  private refusedClients = 0;
  private statsTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly socket: ManualXPublisher,
    private readonly auth: CurveAuthenticator | undefined,
    cameras: string[],
  ) {
    this.cameras = new Set(cameras);
  }

  static async open(init: BusInit): Promise<{ bus: Bus; endpoint: string }> {
    let auth: CurveAuthenticator | undefined;
    let bus: Bus | undefined;
    const socket = new ManualXPublisher({ sendHighWaterMark: 10_000, manual: true, maxMessageSize: MAX_MESSAGE_BYTES });
    try {
      if (init.curve) {
        auth = await CurveAuthenticator.start(init.curve.clients, context, () => bus?.countClient());
        socket.curveServer = true;
        socket.curveSecretKey = init.curve.secret_key;
        socket.curvePublicKey = init.curve.public_key;
      }
      bus = new Bus(socket, auth, init.cameras);
      for (const deadline = Date.now() + BIND_RETRY_MS; ; ) {
        try {
          await socket.bind(init.endpoint);
          break;
        } catch (err) {
          if ((err as { code?: string }).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      return { bus, endpoint: socket.lastEndpoint ?? init.endpoint };
    } catch (err) {
      socket.close();
      await auth?.close();
      throw err;
    }
  }

  publish(messages: Array<[string, string]>): void {
    if (this.closing) return;
    this.queue.push(...messages);
    this.wake?.();
  }

  setCameras(cameras: string[]): void {
    this.cameras = new Set(cameras);
  }

  close(): void {
    this.closing = true;
    this.wake?.();
  }

  countClient(): void {
    this.refusedClients++;
    this.reportSoon();
  }

  /**
   * The only code that touches the socket. libzmq applies a manual subscribe to the peer whose message was
   * read last, and any other call on the socket in between (a send processes pending disconnects, which
   * forget that peer) could lose it; so reads, applies and sends take turns here, and an idle bus polls
   * for readable input instead of leaving a receive() pending beside the sends.
   */
  async run(): Promise<void> {
    let closingSince: number | undefined;
    for (;;) {
      if (this.closing) {
        closingSince ??= Date.now();
        if (this.queue.length === 0 || Date.now() > closingSince + CLOSE_DRAIN_MS) break;
      }
      let handled = 0;
      while (!this.closing && handled < SUBSCRIPTIONS_PER_TURN && this.socket.readable) {
        const [message] = await this.socket.receive();
        this.handle(message!);
        handled++;
      }
      if (this.queue.length) await this.socket.send(this.queue.shift()!);
      else if (handled === 0) await this.idle();
    }
    this.socket.linger = CLOSE_LINGER_MS;
    this.socket.close();
    await this.auth?.close();
    this.report();
  }

  /** Resolves on the next publish or close, or after IDLE_POLL_MS. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), IDLE_POLL_MS);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private handle(message: Buffer): void {
    const kind = message[0];
    const topic = message.subarray(1);
    if ((kind === 1 || kind === 0) && subscriptionCanMatch(topic, this.cameras)) {
      this.socket.apply(kind === 1, topic);
    } else if (kind !== 0) {
      // Unsubscribing from junk needs no answer: it was never applied.
      this.refusedSubscriptions++;
      this.reportSoon();
    }
  }

  private reportSoon(): void {
    this.statsTimer ??= setTimeout(() => this.report(), 100);
  }

  private report(): void {
    clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
    if (this.refusedSubscriptions === 0 && this.refusedClients === 0) return;
    send({ t: 'stats', refusedSubscriptions: this.refusedSubscriptions, refusedClients: this.refusedClients });
    this.refusedSubscriptions = 0;
    this.refusedClients = 0;
  }
}

function main(): void {
  let bus: Bus | undefined;
  // The daemon decides when the bus ends: a Ctrl-C reaches the whole process group, and the daemon then
  // closes the bus after its last events.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // libzmq's default linger is forever: a process exiting with messages queued for a stalled subscriber
  // would never end. close() sets a short linger for the last events.
  context.blocky = false;
  // The daemon is gone (killed, crashed) or the bus closed: nothing will publish again, and the port must
  // be free for the next daemon at once.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: ToBus) => {
    switch (message.t) {
      case 'init':
        Bus.open(message).then(
          ({ bus: opened, endpoint }) => {
            bus = opened;
            send({ t: 'bound', endpoint });
            bus.run().then(
              () => process.disconnect?.(),
              (err: Error) => {
                process.stderr.write(`event bus failed: ${err.stack ?? err.message}\n`);
                process.exit(1);
              },
            );
          },
          (err: Error) => {
            send({ t: 'error', message: err.message });
            process.disconnect?.();
          },
        );
        break;
      case 'publish':
        bus?.publish(message.messages);
        break;
      case 'cameras':
        bus?.setCameras(message.cameras);
        break;
      case 'close':
        if (bus) bus.close();
        else process.disconnect?.();
        break;
    }
  });
}

main();
