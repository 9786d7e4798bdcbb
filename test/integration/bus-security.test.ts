// The event bus against hostile peers, on loopback: a raw ZMTP client announcing a 1 GiB frame, a flood of
// junk subscriptions, subscribers without the right CURVE key, and a config that would put the bus on the
// network without CURVE. Real daemon, real libzmq, real sockets; every wait bounded.
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { curveKeyPair, Subscriber } from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, MEMORY_BUDGET_BYTES } from '../../src/bus/event-bus.js';
import { subscriptionCanMatch } from '../../src/bus/topics.js';
import type { StoredEvent } from '../../src/events/store.js';
import { writeDaemonConfig } from '../harness/daemon-config.js';
import { runCli, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { childProcesses, procInfo, procStatus } from '../harness/proc.js';
import { closedPort } from '../harness/rtsp-process.js';
import { sleep, waitFor } from '../harness/wait.js';

const MB = 1024 * 1024;
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bus-security-'));
const silent = pino({ level: 'silent' });

// --- a raw ZMTP 3.0 peer, as an attacker writes one: no libzmq on its side to enforce anything ---

const GREETING = (() => {
  const g = Buffer.alloc(64); // signature, version 3.0, mechanism NULL, as-server 0, filler
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.write('NULL', 12, 'ascii');
  return g;
})();

function command(name: string, properties: Record<string, string>): Buffer {
  const parts = [Buffer.from([name.length]), Buffer.from(name)];
  for (const [key, value] of Object.entries(properties)) {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(value.length);
    parts.push(Buffer.from([key.length]), Buffer.from(key), size, Buffer.from(value));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]); // short command frame
}

/** A long message frame (flags 0x02) header announcing `size` bytes. */
function longFrameHeader(size: number): Buffer {
  const header = Buffer.alloc(9);
  header[0] = 0x02;
  header.writeBigUInt64BE(BigInt(size), 1);
  return header;
}

/** A short message frame: a subscription is byte 1 then the topic. */
const subscription = (topic: Buffer) => Buffer.concat([Buffer.from([0x00, topic.length + 1, 1]), topic]);

interface RawPeer {
  socket: net.Socket;
  /**
   * Bytes the bus sent us: its greeting (64) and READY command arrive if the handshake works. libzmq takes a
   * message frame that arrives before it has sent its READY for a stray command (and hangs up): frames go
   * after this passes 64.
   */
  received(): number;
  closed: Promise<void>;
  isClosed(): boolean;
}

async function rawSubscriber(port: number): Promise<RawPeer> {
  const socket = net.connect(port, '127.0.0.1');
  let received = 0;
  let closed = false;
  socket.on('data', (d: Buffer) => (received += d.length));
  socket.on('error', () => {}); // a reset is what some tests wait for
  const done = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(GREETING);
  socket.write(command('READY', { 'Socket-Type': 'SUB' }));
  return { socket, received: () => received, closed: done, isClosed: () => closed };
}

/** Writes `data` in chunks, waiting for drain, until done or the peer hangs up. */
async function writeAll(peer: RawPeer, data: Buffer, chunk = 64 * 1024): Promise<number> {
  let written = 0;
  for (let offset = 0; offset < data.length && !peer.isClosed(); offset += chunk) {
    const part = data.subarray(offset, offset + chunk);
    if (!peer.socket.write(part)) {
      await Promise.race([new Promise((r) => peer.socket.once('drain', r)), peer.closed, sleep(2000)]);
    }
    written += part.length;
  }
  return written;
}

const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

// --- fake committed events, as the store hands them to the bus ---

let seq = 0;
function storedEvent(kind: StoredEvent['kind'], camera: string): StoredEvent {
  seq++;
  return {
    id: seq, seq, kind, camera, location: 'market', label: kind === 'motion' ? null : 'car', score: 0.9, start: Date.now(), end: null,
    box: null, path: null, zones: [], attributes: {}, frame: null, crop: null, frameSize: null, clips: [], updated: Date.now(),
  };
}

/** Collects [topic, seq] of everything a subscriber receives until closed. */
function collect(socket: Subscriber): Array<[string, number]> {
  const got: Array<[string, number]> = [];
  void (async () => {
    try {
      for await (const [topic, body] of socket) got.push([topic!.toString(), (JSON.parse(body!.toString()) as { seq: number }).seq]);
    } catch {
      // closed
    }
  })();
  return got;
}

describe('which subscriptions the bus applies', () => {
  const cameras = new Set(['market-east', 'gate']);
  it('accepts prefixes of event.<kind>.<camera> and nothing else', () => {
    for (const ok of ['', 'e', 'event', 'event.', 'event.obj', 'event.object.', 'event.object.market', 'event.object.market-east', 'event.plate.gate', 'event.motion.']) {
      expect(subscriptionCanMatch(Buffer.from(ok), cameras), ok).toBe(true);
    }
    for (const junk of ['x', 'events', 'event.car', 'event.object.market-east.', 'event.object.market-west', 'event.object.gatex', 'event.object.gate ', 'Event.', 'event.object.marke\u00fft']) {
      expect(subscriptionCanMatch(Buffer.from(junk, 'latin1'), cameras), junk).toBe(false);
    }
    expect(subscriptionCanMatch(Buffer.from('event.object.'), new Set())).toBe(true);
    expect(subscriptionCanMatch(Buffer.from('event.object.g'), new Set())).toBe(false);
  });
});

describe('a daemon\'s bus against a raw ZMTP peer', () => {
  let daemon: DaemonProcess;
  let busPort: number;
  /** bin/vigil execs node: the pid the harness started is the daemon itself. */
  const daemonRss = () => procStatus(daemon.child.pid!).rssBytes;
  const busProcess = () => childProcesses(daemon.child.pid!).find((p) => p.state !== 'Z' && p.argv.some((a) => a.endsWith('bus-process.js')));
  const busRss = () => {
    const bus = busProcess();
    try {
      return bus ? procStatus(bus.pid).rssBytes : 0;
    } catch {
      return 0; // replaced while we looked
    }
  };

  beforeAll(async () => {
    busPort = await closedPort();
    const file = writeDaemonConfig(dir, {
      timeZone: 'Asia/Shanghai',
      cameras: [{ name: 'market-east', url: `rtsp://127.0.0.1:${await closedPort()}/x`, location: 'market' }],
      busPort,
      extra: { plates: { enabled: false } },
    });
    daemon = await startDaemonProcess(['--config', file]);
    expect(procInfo(daemon.child.pid!)?.comm, 'the pid measured is node, not the launcher\'s shell').toBe('node');
    await waitFor('the bus process', () => busProcess(), 15_000);
  }, 60_000);
  afterAll(async () => {
    const stopped = await daemon?.stop();
    expect(stopped?.code).toBe(0);
  });

  it('keeps a peer that subscribes properly, and drops one announcing a 1 GiB frame before holding it', async () => {
    const honest = await rawSubscriber(busPort);
    await waitFor('the bus\'s greeting and READY', () => honest.received() > 64, 5000, 20);
    honest.socket.write(subscription(Buffer.from('event.')));

    const daemonBefore = daemonRss();
    const busBefore = busRss();
    const attacker = await rawSubscriber(busPort);
    await waitFor('the bus\'s greeting and READY', () => attacker.received() > 64, 5000, 20);
    attacker.socket.write(longFrameHeader(1024 * MB));
    const sent = await writeAll(attacker, Buffer.alloc(4 * MB, 0x61));
    expect(await within(attacker.closed, 5000), 'libzmq hangs up on a frame over maxMessageSize').toBe(true);
    await sleep(300);
    const daemonGrowth = daemonRss() - daemonBefore;
    const busGrowth = busRss() - busBefore;
    console.log(`1 GiB frame announced, ${(sent / MB).toFixed(1)} MB written before the hang-up: daemon RSS ${(daemonGrowth / MB).toFixed(1)} MB, bus process ${(busGrowth / MB).toFixed(1)} MB`);
    expect(daemonGrowth).toBeLessThan(16 * MB);
    expect(busGrowth).toBeLessThan(16 * MB);
    expect(honest.isClosed(), 'the honest subscriber stays connected').toBe(false);
    honest.socket.destroy();
  });

  it('bounds what 20,000 junk subscriptions make it hold: the daemon not at all, the bus process by its cap', async () => {
    const daemonBefore = daemonRss();
    const busBefore = busRss();
    const pidBefore = busProcess()?.pid;
    let daemonPeak = daemonBefore;
    let busPeak = busBefore;
    const sampler = setInterval(() => {
      daemonPeak = Math.max(daemonPeak, daemonRss());
      busPeak = Math.max(busPeak, busRss());
    }, 20);
    try {
      const attacker = await rawSubscriber(busPort);
      await waitFor('the bus\'s greeting and READY', () => attacker.received() > 64, 5000, 20);
      // 200-byte topics, distinct from the first bytes on: the shape that grew libzmq's trie 6 KB each.
      const frames: Buffer[] = [];
      for (let i = 0; i < 20_000; i++) frames.push(subscription(Buffer.from(`${i.toString(36).padStart(8, '0')}-${'j'.repeat(191)}`)));
      const data = Buffer.concat(frames);
      const sent = await writeAll(attacker, data);
      await within(attacker.closed, 3000);
      await sleep(500);
      const replaced = daemon.logRecords().some((r) => String(r.msg).startsWith('the event bus process outgrew its memory cap'));
      console.log(
        `20,000 junk subscriptions (${(sent / MB).toFixed(1)} MB written, ${attacker.isClosed() ? 'then dropped' : 'still connected'}): ` +
          `daemon RSS peak +${((daemonPeak - daemonBefore) / MB).toFixed(1)} MB, bus process peak +${((busPeak - busBefore) / MB).toFixed(1)} MB` +
          ` (${(busBefore / MB).toFixed(0)} MB at start), ${replaced ? 'bus process replaced' : 'bus process kept'}`,
      );
      attacker.socket.destroy();
      expect(daemonPeak - daemonBefore).toBeLessThan(24 * MB);
      // The cap, plus what a flood adds between two 50 ms checks (measured up to ~70 MB).
      expect(busPeak - busBefore).toBeLessThan(MEMORY_BUDGET_BYTES + 128 * MB);
      if (!replaced) expect(busRss() - busBefore).toBeLessThan(MEMORY_BUDGET_BYTES);
      else expect(busProcess()?.pid).not.toBe(pidBefore);
    } finally {
      clearInterval(sampler);
    }
    // Operations see it: the refused subscriptions (or the replacement they caused) are counted in /metrics.
    await expect.poll(async () => {
      const text = await (await fetch(`${daemon.address}/metrics`)).text();
      const refused = Number(/^vigil_bus_refused_total\{what="subscription"\} (\d+)/m.exec(text)?.[1] ?? 0);
      const restarts = Number(/^vigil_bus_restarts_total\{reason="memory"\} (\d+)/m.exec(text)?.[1] ?? 0);
      return refused > 0 || restarts > 0;
    }, { timeout: 10_000 }).toBe(true);
    // And the bus still serves: a new subscriber gets the handshake.
    await waitFor(
      'the bus to answer a new subscriber',
      async () => {
        const peer = await rawSubscriber(busPort).catch(() => undefined);
        if (!peer) return false;
        const answered = await waitFor('greeting', () => peer.received() > 64, 1000, 20).then(() => true, () => false);
        peer.socket.destroy();
        return answered;
      },
      20_000,
      200,
    );
  });
});

describe('an EventBus with junk and honest subscribers', () => {
  let bus: EventBus;
  const sockets: Subscriber[] = [];
  afterAll(async () => {
    await bus?.close();
    for (const s of sockets) s.close();
  });

  it('applies the honest subscriptions, refuses and counts the junk, and publishes in order', async () => {
    const refused: number[] = [];
    bus = await EventBus.bind('tcp://127.0.0.1:*', silent, {
      cameras: ['market-east', 'gate'],
      observer: { subscriptionsRefused: (n) => refused.push(n) },
    });
    const subscriber = (topics: string[]) => {
      const s = new Subscriber();
      sockets.push(s);
      s.connect(bus.endpoint);
      for (const t of topics) s.subscribe(t);
      return collect(s);
    };
    const all = subscriber(['event.']);
    const marketObjects = subscriber(['event.object.market-east']);
    // A SUB sends its subscriptions when it connects, and libzmq drops those past its send HWM (1,000):
    // four subscribers of 500 each.
    const junkOnly: Array<Array<[string, number]>> = [];
    for (let s = 0; s < 4; s++) {
      const junk: string[] = [];
      for (let i = 0; i < 250; i++) junk.push(`junk-${s}-${i}-${'x'.repeat(100)}`, `event.object.cam-${s}-${i}`);
      junkOnly.push(subscriber(junk));
    }
    await waitFor('2,000 junk subscriptions refused', () => bus.refusedSubscriptions >= 2000, 15_000, 50);

    // The honest subscriptions are applied by now too, or soon: probe until both hear one.
    await waitFor('both honest subscribers to hear a probe', () => {
      bus.publish([storedEvent('object', 'market-east')]);
      return all.length > 0 && marketObjects.length > 0;
    }, 10_000, 100);
    await sleep(200);
    all.length = 0;
    marketObjects.length = 0;

    const published: StoredEvent[] = [];
    for (let i = 0; i < 60; i++) {
      const batch = [storedEvent((['motion', 'object', 'plate'] as const)[i % 3]!, i % 2 ? 'gate' : 'market-east'), storedEvent('object', 'market-east')];
      published.push(...batch);
      bus.publish(batch);
    }
    await waitFor('all 120 events', () => all.length >= 120, 10_000, 50);
    await sleep(200);
    expect(all).toEqual(published.map((e) => [`event.${e.kind}.${e.camera}`, e.seq]));
    expect(marketObjects).toEqual(published.filter((e) => e.kind === 'object' && e.camera === 'market-east').map((e) => [`event.object.market-east`, e.seq]));
    expect(junkOnly).toEqual([[], [], [], []]);
    expect(bus.refusedSubscriptions).toBe(2000);
    expect(refused.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(bus.dropped).toBe(0);
  });

  it('keeps delivering to an honest subscriber through a junk flood, in order, once it is back', async () => {
    const s = new Subscriber();
    sockets.push(s);
    s.connect(bus.endpoint);
    s.subscribe('event.');
    const got = collect(s);
    await waitFor('the subscriber to hear a probe', () => {
      bus.publish([storedEvent('motion', 'gate')]);
      return got.length > 0;
    }, 10_000, 100);

    const attacker = await rawSubscriber(Number(bus.endpoint.split(':').pop()));
    await waitFor('the bus\'s greeting and READY', () => attacker.received() > 64, 5000, 20);
    const frames: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) frames.push(subscription(Buffer.from(`${i.toString(36).padStart(8, '0')}-${'j'.repeat(191)}`)));
    await writeAll(attacker, Buffer.concat(frames));
    await within(attacker.closed, 3000);
    attacker.socket.destroy();

    // Replaced or not, the bus serves the honest subscriber again (it reconnects and subscribes by itself).
    got.length = 0;
    await waitFor('events after the flood', () => {
      bus.publish([storedEvent('object', 'gate')]);
      return got.length >= 3;
    }, 20_000, 100);
    const seqs = got.map(([, n]) => n);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    console.log(`in-process bus after 20,000 junk subscriptions: ${bus.restarts} replacement(s), ${bus.dropped} events dropped meanwhile, ${bus.refusedSubscriptions} subscriptions refused in all`);
  });

  it('accepts subscriptions to a camera added by a reload', async () => {
    bus.setCameras(['market-east', 'gate', 'school']);
    const s = new Subscriber();
    sockets.push(s);
    s.connect(bus.endpoint);
    s.subscribe('event.plate.school');
    const got = collect(s);
    await waitFor('the new camera\'s events', () => {
      bus.publish([storedEvent('plate', 'school')]);
      return got.length > 0;
    }, 10_000, 100);
    expect(got[0]![0]).toBe('event.plate.school');
  });
});

describe('an EventBus with CURVE', () => {
  const server = curveKeyPair();
  const listed = curveKeyPair();
  const unlisted = curveKeyPair();
  let bus: EventBus;
  const sockets: Subscriber[] = [];
  afterAll(async () => {
    await bus?.close();
    for (const s of sockets) s.close();
  });

  it('delivers to a listed client key only: an unlisted key and a plain client receive nothing', async () => {
    bus = await EventBus.bind('tcp://127.0.0.1:*', silent, {
      cameras: ['gate'],
      curve: { public_key: server.publicKey, secret_key: server.secretKey, clients: [listed.publicKey] },
    });
    const subscriber = (keys: { publicKey: string; secretKey: string } | null) => {
      const s = new Subscriber(keys ? { curveServerKey: server.publicKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey } : {});
      sockets.push(s);
      s.connect(bus.endpoint);
      s.subscribe('event.');
      return collect(s);
    };
    const good = subscriber(listed);
    const bad = subscriber(unlisted);
    const plain = subscriber(null);
    await waitFor('the listed subscriber to receive events', () => {
      bus.publish([storedEvent('object', 'gate')]);
      return good.length >= 5;
    }, 10_000, 100);
    // Another second of events for the others to (not) receive.
    for (let i = 0; i < 10; i++) {
      bus.publish([storedEvent('object', 'gate')]);
      await sleep(100);
    }
    expect(good.length).toBeGreaterThanOrEqual(15);
    expect(bad).toEqual([]);
    expect(plain).toEqual([]);
    await waitFor('the unlisted key counted as refused', () => bus.refusedClients >= 1, 5000, 50);
  });
});

describe('config check', () => {
  it('refuses a bus bound to 0.0.0.0 without bus.curve, with exit code 2, and accepts it with keys', async () => {
    const file = path.join(dir, 'open-bus.yaml');
    const base = `cameras: [{ name: gate, url: "rtsp://127.0.0.1:1/x", location: gate }]\n`;
    writeFileSync(file, base + 'bus: { publish: "tcp://0.0.0.0:5556" }\n');
    const refused = await runCli(['config', 'check', '--config', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('bus.publish');
    expect(refused.stderr).toContain('bus.curve');
    expect(refused.stderr).toContain('tcp://127.0.0.1:PORT');

    const keys = await runCli(['bus', 'keys']);
    expect(keys.code).toBe(0);
    const server = Object.fromEntries([...keys.stdout.matchAll(/^(public_key|secret_key): "(.{40})"$/gm)].map((m) => [m[1], m[2]]));
    expect(Object.keys(server)).toEqual(['public_key', 'secret_key']);
    writeFileSync(file, base + `bus:
  publish: "tcp://0.0.0.0:5556"
  curve:
    public_key: "${server.public_key}"
    secret_key: "${server.secret_key}"
    clients: ["${curveKeyPair().publicKey}"]
`);
    const accepted = await runCli(['config', 'check', '--config', file]);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
  });
});
