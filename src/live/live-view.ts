// Live view: officers watch a camera in the web page with JSMpeg, which plays MPEG-1 video in MPEG-TS over
// a WebSocket. One ffmpeg transcoder per watched camera, started by its first viewer, stopped when its last
// viewer leaves, its output fanned out to every viewer over the daemon's own HTTP server.
//
// The transcoder is node-rtsp-stream's Mpeg1Muxer, which runs `ffmpeg -i URL -f mpegts -codec:v mpeg1video
// <our options> -`. Since the URL comes right after the binary, no input option can be given, and:
//  - RTSP transport: ffmpeg tries UDP first and falls back to TCP when the camera answers 461 to the UDP
//    SETUP, or (its rtspdec.c) when no UDP packet arrives for about 10 s. Asking for TCP in the URL
//    (`?tcp`) stopped working when libavformat 56 dropped FF_API_RTSP_URL_OPTIONS: the bundled 2018 build
//    sends `rtsp://host/path?tcp` to the camera verbatim (measured: our test server answered 404). So the
//    URL is left alone, and the startup watchdog waits longer than ffmpeg's UDP timeout.
//  - Files: `-re -stream_loop -1` are input options, so the `realtime` filter paces decoding to the clock
//    instead, and the transcoder is started again when the file ends, while anyone watches.
//
// Status goes over HTTP (liveStatus(), served at /api/live/:camera/status), not as WebSocket text frames:
// JSMpeg's WSSource hands every message, text included, to its MPEG-TS demuxer, and the first message of a
// connection also fires its "established" hook, so a status frame would hide the player's loading state
// before any picture arrived.
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type Mpeg1MuxerClass from 'node-rtsp-stream/mpeg1muxer';
import { redactCredentials } from '../config/redact.js';
import { isStreamUrl, type CameraConfig } from '../config/schema.js';
import { SupervisedFfmpeg, type SupervisionTiming } from '../ingest/supervised-ffmpeg.js';
import type { VigilMetrics } from '../metrics/metrics.js';

const Mpeg1Muxer = createRequire(import.meta.url)('node-rtsp-stream/mpeg1muxer') as typeof Mpeg1MuxerClass;

/** WebSocket close codes of the live view (4000-4999 are the application's). */
export const LIVE_CLOSE = {
  /** The server is stopping (RFC 6455 "going away"). */
  goingAway: 1001,
  /** The credential the viewer opened the socket with was revoked (token removed, signed out, expired). */
  revoked: 4401,
  /** The page was served by another origin (cross-site WebSocket hijacking). */
  forbiddenOrigin: 4403,
  unknownCamera: 4404,
  disabledCamera: 4409,
} as const;

const TS_PACKET = 188;
const MAX_WIDTH = 1280;

/**
 * connecting: the transcoder started and has produced nothing yet; playing: video flows; retrying: it
 * failed (`error` says how) and is restarted after a back-off; idle: nobody watches, nothing runs.
 */
export type LiveState = 'idle' | 'connecting' | 'playing' | 'retrying';

export interface LiveStatus {
  camera: string;
  state: LiveState;
  viewers: number;
  /** Transcoder restarts after failures since the first viewer arrived (not the replays of a file). */
  restarts: number;
  /** Why the last run failed, credentials removed; absent once video flows again. */
  error?: string;
}

/** The transcoder's supervision (its startupMs must be longer than ffmpeg's UDP timeout), and the viewers'. */
export interface LiveTiming extends SupervisionTiming {
  /** A viewer with more than this waiting in its socket gets no more chunks until it drains. */
  maxBufferedBytes: number;
  /** A viewer that has not drained below maxBufferedBytes for this long is disconnected. */
  slowViewerMs: number;
}

export const DEFAULT_LIVE_TIMING: LiveTiming = {
  stallMs: 10_000,
  startupMs: 20_000,
  backoffInitialMs: 1000,
  backoffMaxMs: 30_000,
  stableAfterMs: 30_000,
  killGraceMs: 2000,
  maxBufferedBytes: 2 << 20,
  slowViewerMs: 30_000,
};

export interface LiveViewOptions {
  ffmpegPath: string;
  /** The current cameras; read at every attach and transcoder start, so a config reload takes effect. */
  cameras: () => readonly CameraConfig[];
  logger: Logger;
  metrics?: VigilMetrics;
  timing?: Partial<LiveTiming>;
}

export type AttachResult = 'attached' | 'unknown' | 'disabled' | 'closed' | 'stopped';

/** ffmpeg's output options for one camera (after `-f mpegts -codec:v mpeg1video`). */
export function transcoderOptions(camera: CameraConfig): Record<string, string> {
  // Even width and height, at most 1280 wide: MPEG-1 at 1 Mbit/s has no bits to spend on more.
  const scale = `scale='trunc(min(${MAX_WIDTH},iw)/2)*2':-2`;
  return {
    // Global options, accepted anywhere on the command line (checked with the bundled 2018 build).
    '-nostdin': '',
    '-hide_banner': '',
    '-nostats': '',
    '-loglevel': 'warning',
    '-map': '0:v:0',
    '-an': '',
    '-sn': '',
    '-vf': isStreamUrl(camera.url) ? scale : `realtime,${scale}`,
    // MPEG-1 allows only the standard frame rates (23.976 to 60); 25 suits PAL cameras and files alike.
    '-r': '25',
    '-b:v': '1000k',
    '-bf': '0',
  };
}

interface Viewer {
  socket: WebSocket;
  /** False until the viewer's next chunk is cut to start at a TS packet boundary. */
  aligned: boolean;
  skipped: number;
  /** performance.now() since which the viewer's socket has been over the buffer limit. */
  slowSince: number | undefined;
}

export class LiveView {
  private readonly feeds = new Map<string, CameraFeed>();
  /** Transcoders whose viewers have left, until their ffmpeg has exited. */
  private readonly dying = new Set<Promise<void>>();
  private readonly timing: LiveTiming;
  private stopped = false;

  constructor(private readonly options: LiveViewOptions) {
    this.timing = { ...DEFAULT_LIVE_TIMING, ...options.timing };
  }

  /**
   * Hands a viewer's WebSocket to the camera's transcoder, starting it if this is the first viewer. An
   * unknown or disabled camera, or a stopped live view, closes the socket with a LIVE_CLOSE code.
   */
  attach(cameraName: string, socket: WebSocket): AttachResult {
    if (this.stopped) {
      socket.close(LIVE_CLOSE.goingAway, 'vigil is shutting down');
      return 'stopped';
    }
    const camera = this.camera(cameraName);
    if (!camera) {
      socket.close(LIVE_CLOSE.unknownCamera, closeReason(`unknown camera: ${cameraName}`));
      return 'unknown';
    }
    if (!camera.enabled) {
      socket.close(LIVE_CLOSE.disabledCamera, closeReason(`camera ${camera.name} is disabled`));
      return 'disabled';
    }
    // The viewer may have gone during the upgrade; a transcoder for nobody would never be stopped.
    if (socket.readyState !== socket.OPEN) return 'closed';
    let feed = this.feeds.get(camera.name);
    if (!feed) {
      feed = new CameraFeed(camera.name, this.options, this.timing, () => this.camera(camera.name), (f) => this.retire(f));
      this.feeds.set(camera.name, feed);
    }
    feed.add(socket);
    return 'attached';
  }

  /** The camera's live state, or undefined if there is no such camera. */
  liveStatus(cameraName: string): LiveStatus | undefined {
    const camera = this.camera(cameraName);
    if (!camera) return undefined;
    return this.feeds.get(camera.name)?.status() ?? { camera: camera.name, state: 'idle', viewers: 0, restarts: 0 };
  }

  /** The running transcoders: one per watched camera. A camera leaves the list with its last viewer. */
  transcoders(): Array<{ camera: string; pid: number | undefined; viewers: number }> {
    return [...this.feeds.values()].map((f) => ({ camera: f.name, pid: f.pid, viewers: f.viewerCount }));
  }

  /** Closes every viewer (1001) and stops every transcoder; resolves when all their ffmpeg children exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.all([...feeds.map((f) => f.close(LIVE_CLOSE.goingAway, 'vigil is shutting down')), ...this.dying]);
  }

  private camera(name: string): CameraConfig | undefined {
    return this.options.cameras().find((c) => c.name === name);
  }

  private retire(feed: CameraFeed): void {
    if (this.feeds.get(feed.name) === feed) this.feeds.delete(feed.name);
    const done = feed.close(LIVE_CLOSE.goingAway, 'live view closed');
    this.dying.add(done);
    void done.finally(() => this.dying.delete(done));
  }
}

/** One camera's transcoder and its viewers, from the first viewer's arrival to the last one's departure. */
class CameraFeed {
  private readonly viewers = new Set<Viewer>();
  private readonly log: Logger;
  private readonly transcoder: SupervisedFfmpeg;
  private state: Exclude<LiveState, 'idle'> = 'connecting';
  private error: string | undefined;
  private restarts = 0;
  /** Bytes delivered by the current run: where its next chunk starts in its transport stream. */
  private runBytes = 0;
  private viewerCheck: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly options: LiveViewOptions,
    private readonly timing: LiveTiming,
    private readonly lookup: () => CameraConfig | undefined,
    private readonly onEmpty: (feed: CameraFeed) => void,
  ) {
    this.log = options.logger.child({ component: 'live', camera: name });
    let url = '';
    this.transcoder = new SupervisedFfmpeg(options.ffmpegPath, timing, {
      spawn: () => {
        const camera = this.lookup();
        if (!camera || !camera.enabled) {
          this.endForConfig(camera);
          return undefined;
        }
        url = camera.url;
        return this.spawn(camera);
      },
      output: (chunk) => this.onData(chunk),
      firstOutput: (connectS) => {
        if (this.state !== 'playing') this.log.info({ connect_s: round(connectS) }, 'live view playing');
        this.state = 'playing';
        this.error = undefined;
      },
      stderr: (line) => this.log.warn({ pid: this.transcoder.pid, ffmpeg: line }, `live view ffmpeg: ${line}`),
      ended: (exit) => {
        if (isStreamUrl(url) || exit.code !== 0 || !exit.hadOutput || exit.stalled) return undefined;
        // The file ended: play it again, as ingest loops it. Not faster than once a second, so a clip of a
        // few frames cannot spin ffmpeg.
        this.log.debug('live view file ended; playing it again');
        return Math.max(0, 1000 - exit.ranMs);
      },
      failed: (exit, retryInMs) => {
        this.error = exit.failure.message;
        this.state = 'retrying';
        this.log.warn({ exit_code: exit.code, signal: exit.signal, retry_in_s: round(retryInMs / 1000) }, `live view retrying: ${this.error}`);
      },
      restarting: () => this.restarts++,
    });
  }

  get pid(): number | undefined {
    return this.transcoder.pid;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  status(): LiveStatus {
    return {
      camera: this.name,
      state: this.state,
      viewers: this.viewers.size,
      restarts: this.restarts,
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }

  add(socket: WebSocket): void {
    const viewer: Viewer = { socket, aligned: false, skipped: 0, slowSince: undefined };
    this.viewers.add(viewer);
    socket.on('close', () => this.remove(viewer));
    // An unclean disconnect; 'close' follows and removes the viewer.
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'live viewer connection failed'));
    this.options.metrics?.liveViewers.set({ camera: this.name }, this.viewers.size);
    this.log.info({ viewers: this.viewers.size }, 'live viewer joined');
    if (this.viewers.size === 1 && !this.transcoder.running) {
      this.viewerCheck = setInterval(() => this.dropSlowViewers(), 1000);
      this.viewerCheck.unref();
      this.transcoder.start();
    }
  }

  /** Closes the viewers still here and stops the transcoder; resolves when its ffmpeg has exited. */
  close(code: number, reason: string): Promise<void> {
    clearInterval(this.viewerCheck);
    for (const viewer of this.viewers) viewer.socket.close(code, reason);
    this.viewers.clear();
    this.options.metrics?.liveViewers.set({ camera: this.name }, 0);
    return this.transcoder.stop();
  }

  private remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    this.options.metrics?.liveViewers.set({ camera: this.name }, this.viewers.size);
    this.log.info({ viewers: this.viewers.size, skipped_chunks: viewer.skipped }, 'live viewer left');
    if (this.viewers.size === 0) this.onEmpty(this);
  }

  private spawn(camera: CameraConfig) {
    const muxer = new Mpeg1Muxer({
      url: camera.url,
      ffmpegPath: this.options.ffmpegPath,
      ffmpegOptions: transcoderOptions(camera),
    });
    const child = muxer.stream;
    // The muxer's only 'exit' listener prints "RTSP stream exited with error" to the console on exit code
    // 1; vigil reports exits itself, with the camera's name and why.
    for (const listener of child.listeners('exit')) child.removeListener('exit', listener as (...args: unknown[]) => void);
    this.runBytes = 0;
    for (const viewer of this.viewers) viewer.aligned = false;
    this.options.metrics?.liveTranscoderStarts.inc({ camera: this.name });
    this.log.debug({ pid: child.pid, url: redactCredentials(camera.url) }, 'live transcoder started');
    return child;
  }

  /** The config changed under a running view: the camera was removed or disabled. */
  private endForConfig(camera: CameraConfig | undefined): void {
    const [code, reason] = camera
      ? [LIVE_CLOSE.disabledCamera, `camera ${this.name} is disabled`]
      : [LIVE_CLOSE.unknownCamera, `unknown camera: ${this.name}`];
    this.log.info('live view ended: the camera was removed or disabled');
    for (const viewer of this.viewers) viewer.socket.close(code, closeReason(reason));
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    const offset = this.runBytes;
    this.runBytes += chunk.length;
    for (const viewer of this.viewers) {
      const { socket } = viewer;
      if (socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > this.timing.maxBufferedBytes) {
        viewer.skipped++;
        viewer.aligned = false;
        viewer.slowSince ??= now;
        this.options.metrics?.liveChunksSkipped.inc({ camera: this.name });
        continue;
      }
      viewer.slowSince = undefined;
      let data = chunk;
      if (!viewer.aligned) {
        // Pipe reads cut the stream anywhere; a viewer that joins (or resumes) mid-stream starts at a
        // packet boundary, so its demuxer never has to hunt for sync.
        const skip = (TS_PACKET - (offset % TS_PACKET)) % TS_PACKET;
        if (skip >= chunk.length) continue;
        data = skip ? chunk.subarray(skip) : chunk;
        viewer.aligned = true;
      }
      socket.send(data, { binary: true });
    }
  }

  private dropSlowViewers(): void {
    const now = performance.now();
    for (const viewer of this.viewers) {
      if (viewer.slowSince !== undefined && now - viewer.slowSince >= this.timing.slowViewerMs) {
        this.log.info({ skipped_chunks: viewer.skipped }, 'live viewer disconnected: its connection has not kept up');
        // A close handshake would queue behind the data it cannot take.
        viewer.socket.terminate();
      }
    }
  }
}

/** A close reason fits in 123 bytes of UTF-8 (RFC 6455); it may quote a name from the URL. */
function closeReason(text: string): string {
  const chars = [...text];
  while (Buffer.byteLength(chars.join('')) > 123) chars.pop();
  return chars.join('');
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
