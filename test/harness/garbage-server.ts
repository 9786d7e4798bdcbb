// Cameras that send garbage, for the reliability tests. Runs in the test's own process (nothing here needs
// to be killed or hung from outside). Two kinds:
//   - 'rtsp-garbage': answers OPTIONS / DESCRIBE / SETUP / PLAY like a camera (an H.264 track, RTP over the
//     RTSP connection), then sends well-framed interleaved RTP packets ($, channel, length, a valid RTP
//     header) whose payloads are random bytes: what a camera with a broken encoder or a corrupting middlebox
//     sends. The bundled ffmpeg complains about every packet and never produces a frame.
//   - 'random-bytes': a plain TCP server that answers whatever it is sent with random bytes: a URL that
//     points at the wrong service. Endless, ffmpeg waits for an RTSP reply for ever; with closeAfterChunks it
//     hangs up after a few chunks and ffmpeg exits at once with "Invalid data found when processing input".
// The bytes come from a seeded generator, so a failure can be replayed.
import net from 'node:net';
import { seededRandom } from './seeded-random.js';

export type GarbageKind = 'rtsp-garbage' | 'random-bytes';

export interface GarbageServer {
  kind: GarbageKind;
  port: number;
  url(mount?: string): string;
  /** TCP connections accepted so far (each is one attempt by the client). */
  readonly connections: number;
  /** Bytes of garbage written so far. */
  readonly garbageBytes: number;
  close(): Promise<void>;
}

function randomBuffer(random: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

export interface GarbageOptions {
  seed?: number;
  /** Garbage packets (rtsp-garbage) or chunks (random-bytes) per second, per connection. */
  rate?: number;
  /** Most bytes per packet or chunk. */
  maxChunk?: number;
  /** random-bytes only: hang up after this many chunks (a wrong service that answers and closes); default never. */
  closeAfterChunks?: number;
}

export async function startGarbageServer(kind: GarbageKind, options: GarbageOptions = {}): Promise<GarbageServer> {
  const random = seededRandom(options.seed ?? 1);
  const rate = options.rate ?? 100;
  const maxChunk = options.maxChunk ?? 1400;
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let garbageBytes = 0;

  const spew = (socket: net.Socket, make: () => Buffer): void => {
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      // A client that stops reading is not buffered for without bound.
      if (socket.writableLength > 1 << 20) return;
      const chunk = make();
      garbageBytes += chunk.length;
      socket.write(chunk);
    }, 1000 / rate);
    socket.once('close', () => clearInterval(timer));
  };

  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (kind === 'random-bytes') {
      // Answer the first request (whatever it is) with noise, and keep it coming.
      let chunks = 0;
      socket.once('data', () =>
        spew(socket, () => {
          if (++chunks === options.closeAfterChunks) setImmediate(() => socket.end());
          return randomBuffer(random, 1 + Math.floor(random() * maxChunk));
        }),
      );
      return;
    }
    rtspGarbage(socket, random, (make) => spew(socket, make), maxChunk);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    kind,
    port,
    url: (mount = 'stream') => `rtsp://127.0.0.1:${port}/${mount}`,
    get connections() {
      return connections;
    },
    get garbageBytes() {
      return garbageBytes;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Just enough RTSP to get a client to PLAY, then RTP packets with random payloads. */
function rtspGarbage(socket: net.Socket, random: () => number, spew: (make: () => Buffer) => void, maxChunk: number): void {
  let pending = '';
  let channel = 0;
  let seq = Math.floor(random() * 65536);
  let timestamp = Math.floor(random() * 2 ** 32);
  const ssrc = Math.floor(random() * 2 ** 32);
  let playing = false;
  socket.on('data', (chunk: Buffer) => {
    if (playing) return; // receiver reports and keep-alives: ignored
    pending += chunk.toString('latin1');
    for (;;) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const [method = ''] = head.split(' ');
      const cseq = /^cseq:\s*(\d+)/im.exec(head)?.[1] ?? '0';
      const reply = (extra: Record<string, string>, body = '') => {
        let out = `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n`;
        for (const [k, v] of Object.entries(extra)) out += `${k}: ${v}\r\n`;
        if (body) out += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
        socket.write(out + '\r\n' + body);
      };
      switch (method) {
        case 'OPTIONS':
          reply({ Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN' });
          break;
        case 'DESCRIBE': {
          const port = (socket.address() as net.AddressInfo).port;
          const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=garbage camera', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*',
            'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=1', 'a=control:trackID=0', ''].join('\r\n');
          reply({ 'Content-Type': 'application/sdp', 'Content-Base': `rtsp://127.0.0.1:${port}/stream/` }, sdp);
          break;
        }
        case 'SETUP':
          channel = Number(/interleaved=(\d+)/.exec(head)?.[1] ?? 0);
          reply({ Transport: `RTP/AVP/TCP;unicast;interleaved=${channel}-${channel + 1}`, Session: '6761726261676521;timeout=60' });
          break;
        case 'PLAY':
          reply({ Session: '6761726261676521', Range: 'npt=0.000-' });
          playing = true;
          spew(() => {
            const payload = randomBuffer(random, 1 + Math.floor(random() * maxChunk));
            const packet = Buffer.alloc(16 + payload.length);
            packet[0] = 0x24;
            packet[1] = channel;
            packet.writeUInt16BE(12 + payload.length, 2);
            packet[4] = 0x80;
            const marker = random() < 0.2;
            packet[5] = (marker ? 0x80 : 0) | 96;
            packet.writeUInt16BE(seq, 6);
            seq = (seq + 1) & 0xffff;
            if (marker) timestamp = (timestamp + 3600) >>> 0;
            packet.writeUInt32BE(timestamp, 8);
            packet.writeUInt32BE(ssrc, 12);
            payload.copy(packet, 16);
            return packet;
          });
          return;
        default:
          reply({});
      }
    }
  });
}
