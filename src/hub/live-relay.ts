// The live view at a hub: the officer's player connects to the hub, which opens the box's own live route with
// its replicate token and passes the MPEG-TS through unchanged. The hub decodes nothing; the box's transcoder
// runs once per camera however many officers watch through one hub or the box itself.
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { LIVE_CLOSE, type AttachResult, type LiveStatus } from '../live/live-view.js';
import type { LiveSource } from '../api/live-routes.js';
import type { BoxClient } from './box-client.js';

/** Bytes queued to a slow viewer before its frames are dropped (a few seconds of a 1 Mbit/s stream). */
const MAX_BUFFERED = 1024 * 1024;

/** Close codes a peer may send on, as ws allows them to be sent again. */
function relayable(code: number): number {
  return code === 1000 || code === 1001 || (code >= 3000 && code <= 4999) ? code : 1011;
}

export class LiveRelay implements LiveSource {
  private readonly open = new Set<WebSocket>();
  private stopped = false;

  constructor(
    /** The box that has this camera, as the hub last heard from it. */
    private readonly boxOf: (camera: string) => BoxClient | undefined,
    private readonly logger: Logger,
  ) {}

  attach(camera: string, viewer: WebSocket): AttachResult {
    if (this.stopped) {
      viewer.close(LIVE_CLOSE.goingAway, 'the hub is shutting down');
      return 'stopped';
    }
    const box = this.boxOf(camera);
    if (!box) {
      viewer.close(LIVE_CLOSE.unknownCamera, `no box has a camera "${camera}"`);
      return 'unknown';
    }
    const { url, headers } = box.liveSocket(camera);
    const upstream = new WebSocket(url, { headers, handshakeTimeout: 10_000, maxPayload: 4 * 1024 * 1024 });
    this.open.add(upstream);
    upstream.on('message', (data, isBinary) => {
      if (viewer.readyState !== WebSocket.OPEN || viewer.bufferedAmount > MAX_BUFFERED) return;
      viewer.send(data, { binary: isBinary });
    });
    upstream.on('close', (code, reason) => {
      this.open.delete(upstream);
      if (viewer.readyState === WebSocket.OPEN) viewer.close(relayable(code), reason.toString() || `box ${box.name} closed the live view`);
    });
    upstream.on('error', (err) => {
      this.logger.warn({ box: box.name, camera, err: err.message }, `live view of ${camera} through box ${box.name} failed: ${err.message}`);
      this.open.delete(upstream);
      if (viewer.readyState === WebSocket.OPEN) viewer.close(1011, `box ${box.name} is unreachable`);
    });
    viewer.once('close', () => {
      this.open.delete(upstream);
      upstream.terminate();
    });
    return 'attached';
  }

  async liveStatus(camera: string): Promise<LiveStatus | undefined> {
    const box = this.boxOf(camera);
    if (!box) return undefined;
    try {
      return (await box.liveStatus(camera)) as LiveStatus;
    } catch (err) {
      return { camera, state: 'retrying', viewers: 0, restarts: 0, error: (err as Error).message };
    }
  }

  stop(): void {
    this.stopped = true;
    for (const socket of this.open) socket.terminate();
    this.open.clear();
  }
}
