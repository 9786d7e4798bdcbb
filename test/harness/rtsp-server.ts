// A small RTSP server for tests: serves H.264 clips over RTP interleaved on the RTSP TCP connection
// (RFC 2326 + RFC 6184), looped in real time like a camera. It runs as a child process in tests so
// that they can kill it, stop it (SIGSTOP) and bring it back on the same port.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { H264Stream } from './h264.js';

export interface Mount {
  stream: H264Stream;
  fps: number;
}

export interface RtspServerOptions {
  host?: string;
  port?: number;
  mounts: Record<string, Mount>;
  /** When set, DESCRIBE requires HTTP Basic credentials. */
  auth?: { user: string; pass: string };
}

const MAX_PAYLOAD = 1400;
const CLOCK_RATE = 90000;

interface Session {
  id: string;
  mount: Mount;
  channel: number;
  timer?: NodeJS.Timeout;
  frame: number;
  seq: number;
  ssrc: number;
  startedAt: number;
}

export class RtspTestServer {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  readonly host: string;
  port: number;

  constructor(private readonly options: RtspServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  url(mount: string, credentials?: string): string {
    return `rtsp://${credentials ? credentials + '@' : ''}${this.host}:${this.port}/${mount}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const sessions = new Map<string, Session>();
    let pending = Buffer.alloc(0);
    const cleanup = () => {
      for (const s of sessions.values()) clearTimeout(s.timer);
      sessions.clear();
      this.sockets.delete(socket);
    };
    socket.on('close', cleanup);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (pending.length === 0) return;
        if (pending[0] === 0x24) {
          // Interleaved RTCP from the client (receiver reports): skip it.
          if (pending.length < 4) return;
          const len = pending.readUInt16BE(2);
          if (pending.length < 4 + len) return;
          pending = pending.subarray(4 + len);
          continue;
        }
        const headerEnd = pending.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const head = pending.subarray(0, headerEnd).toString('utf8');
        const lengthMatch = /^content-length:\s*(\d+)/im.exec(head);
        const bodyLength = lengthMatch ? Number(lengthMatch[1]) : 0;
        if (pending.length < headerEnd + 4 + bodyLength) return;
        pending = pending.subarray(headerEnd + 4 + bodyLength);
        this.handleRequest(socket, head, sessions);
      }
    });
  }

  private handleRequest(socket: net.Socket, head: string, sessions: Map<string, Session>): void {
    const lines = head.split('\r\n');
    const [method = '', uri = ''] = (lines[0] ?? '').split(' ');
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const cseq = headers.get('cseq') ?? '0';
    const reply = (status: string, extra: Record<string, string> = {}, body = '') => {
      let out = `RTSP/1.0 ${status}\r\nCSeq: ${cseq}\r\nServer: vigil-test-rtsp\r\n`;
      for (const [k, v] of Object.entries(extra)) out += `${k}: ${v}\r\n`;
      if (body) out += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
      socket.write(out + '\r\n' + body);
    };
    const path = uri.replace(/^rtsp:\/\/[^/]+/, '').replace(/^\//, '');
    const mountName = path.split('/')[0] ?? '';
    const mount = this.options.mounts[mountName];

    switch (method) {
      case 'OPTIONS':
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return reply('200 OK', { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
      case 'DESCRIBE': {
        if (!mount) return reply('404 Not Found');
        if (!this.authorized(headers.get('authorization'))) {
          return reply('401 Unauthorized', { 'WWW-Authenticate': 'Basic realm="vigil-test"' });
        }
        const sdp = this.sdp(mount);
        return reply(
          '200 OK',
          { 'Content-Type': 'application/sdp', 'Content-Base': `rtsp://${this.host}:${this.port}/${mountName}/` },
          sdp,
        );
      }
      case 'SETUP': {
        if (!mount) return reply('404 Not Found');
        const transport = headers.get('transport') ?? '';
        const interleaved = /interleaved=(\d+)/.exec(transport);
        if (!/TCP/i.test(transport) || !interleaved) return reply('461 Unsupported Transport');
        const id = randomBytes(6).toString('hex');
        sessions.set(id, {
          id,
          mount,
          channel: Number(interleaved[1]),
          frame: 0,
          seq: randomBytes(2).readUInt16BE(0),
          ssrc: randomBytes(4).readUInt32BE(0),
          startedAt: 0,
        });
        const ch = Number(interleaved[1]);
        return reply('200 OK', {
          Transport: `RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}`,
          Session: `${id};timeout=60`,
        });
      }
      case 'PLAY': {
        const session = sessions.get((headers.get('session') ?? '').split(';')[0] ?? '');
        if (!session) return reply('454 Session Not Found');
        reply('200 OK', { Session: session.id, Range: 'npt=0.000-' });
        session.startedAt = performance.now();
        this.sendNextFrame(socket, session);
        return;
      }
      case 'TEARDOWN': {
        const id = (headers.get('session') ?? '').split(';')[0] ?? '';
        const session = sessions.get(id);
        if (session) clearTimeout(session.timer);
        sessions.delete(id);
        reply('200 OK');
        return;
      }
      default:
        return reply('501 Not Implemented');
    }
  }

  private authorized(header: string | undefined): boolean {
    const auth = this.options.auth;
    if (!auth) return true;
    if (!header?.startsWith('Basic ')) return false;
    return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${auth.user}:${auth.pass}`;
  }

  private sdp(mount: Mount): string {
    const { sps, pps } = mount.stream;
    const profile = sps.subarray(1, 4).toString('hex');
    return [
      'v=0',
      `o=- ${Date.now()} 1 IN IP4 ${this.host}`,
      's=vigil test camera',
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'a=control:*',
      'm=video 0 RTP/AVP 96',
      'a=rtpmap:96 H264/90000',
      `a=fmtp:96 packetization-mode=1;profile-level-id=${profile};sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`,
      `a=framerate:${mount.fps}`,
      'a=control:trackID=0',
      '',
    ].join('\r\n');
  }

  // Frames go out on a fixed schedule from the start of PLAY, so timer jitter never accumulates.
  private sendNextFrame(socket: net.Socket, session: Session): void {
    if (socket.destroyed) return;
    const { units } = session.mount.stream;
    const unit = units[session.frame % units.length]!;
    const timestamp = Math.round((session.frame * CLOCK_RATE) / session.mount.fps) >>> 0;
    // A reader that cannot keep up loses frames rather than making the server buffer without bound.
    if (socket.writableLength < 8 * 1024 * 1024) {
      unit.nals.forEach((nal, i) => this.sendNal(socket, session, nal, timestamp, i === unit.nals.length - 1));
    }
    session.frame++;
    const due = session.startedAt + (session.frame * 1000) / session.mount.fps;
    session.timer = setTimeout(() => this.sendNextFrame(socket, session), Math.max(0, due - performance.now()));
  }

  private sendNal(socket: net.Socket, session: Session, nal: Buffer, timestamp: number, last: boolean): void {
    if (nal.length <= MAX_PAYLOAD) {
      this.sendRtp(socket, session, nal, timestamp, last);
      return;
    }
    // FU-A fragmentation (RFC 6184 5.8).
    const indicator = (nal[0]! & 0xe0) | 28;
    const type = nal[0]! & 0x1f;
    for (let offset = 1; offset < nal.length; offset += MAX_PAYLOAD) {
      const end = Math.min(offset + MAX_PAYLOAD, nal.length);
      const header = (offset === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
      const payload = Buffer.concat([Buffer.from([indicator, header]), nal.subarray(offset, end)]);
      this.sendRtp(socket, session, payload, timestamp, last && end === nal.length);
    }
  }

  private sendRtp(socket: net.Socket, session: Session, payload: Buffer, timestamp: number, marker: boolean): void {
    const packet = Buffer.alloc(4 + 12 + payload.length);
    packet[0] = 0x24;
    packet[1] = session.channel;
    packet.writeUInt16BE(12 + payload.length, 2);
    packet[4] = 0x80;
    packet[5] = (marker ? 0x80 : 0) | 96;
    packet.writeUInt16BE(session.seq, 6);
    session.seq = (session.seq + 1) & 0xffff;
    packet.writeUInt32BE(timestamp, 8);
    packet.writeUInt32BE(session.ssrc, 12);
    payload.copy(packet, 16);
    socket.write(packet);
  }
}
