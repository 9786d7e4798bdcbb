// Keeps one camera's frames flowing for months: runs ffmpeg, restarts it with back-off when it exits,
// kills it when the stream stalls (ffmpeg can hang for ever on a hung server, and exits 0 when a server
// dies), and knows the camera's state for health and metrics.
import type { Logger } from 'pino';
import { redactCredentials } from '../config/redact.js';
import type { CameraConfig, IngestConfig } from '../config/schema.js';
import { Backoff } from './backoff.js';
import { CameraSource, type SourceExit } from './camera-source.js';
import { cameraArgs, type FfmpegBinary } from './ffmpeg.js';
import type { CameraError, CameraErrorKind } from './ffmpeg-errors.js';
import { FrameReader, type DropReason, type FrameConsumer } from './frame-reader.js';

/**
 * starting: first connection not yet made; up: frames arriving; down: lost, retrying with back-off;
 * failed: lost with an error that needs a person (wrong path, credentials, file), still retried at the
 * longest back-off in case it is fixed on the camera's side; stopped: vigil stopped watching it.
 */
export type CameraState = 'starting' | 'up' | 'down' | 'failed' | 'stopped';
export const CAMERA_STATES: readonly CameraState[] = ['starting', 'up', 'down', 'failed', 'stopped'];

export interface CameraObserver {
  frame?(camera: string): void;
  dropped?(camera: string, reason: DropReason): void;
  restarted?(camera: string): void;
  error?(camera: string, kind: CameraErrorKind): void;
  /** Seconds from starting ffmpeg to the first frame of that run. */
  connected?(camera: string, seconds: number): void;
}

export interface CameraStatus {
  name: string;
  location: string;
  url: string;
  state: CameraState;
  fps: number;
  frames: number;
  lastFrameAt: number | null;
  lastFrameAgeS: number | null;
  restarts: number;
  lastError: { kind: CameraErrorKind; message: string; at: string } | null;
  /** When the camera last came up (ms), while it is up. */
  upSince: number | null;
}

export interface SupervisorDeps {
  ffmpeg: FfmpegBinary;
  ingest: IngestConfig;
  inputArgs?: readonly string[];
  decodeThreads?: number;
  logger: Logger;
  observer?: CameraObserver;
  random?: () => number;
}

const FPS_WINDOW_MS = 10_000;

export class CameraSupervisor {
  readonly reader: FrameReader;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly args: string[];
  private source: CameraSource | undefined;
  private stallError: CameraError | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private currentState: CameraState = 'starting';
  private upAt: number | null = null;
  private upSince = 0;
  private frameTimes: number[] = [];
  private frames = 0;
  private lastFrameAt: number | null = null;
  private restarts = 0;
  private lastError: CameraStatus['lastError'] = null;
  private stopping = false;
  private running = false;

  constructor(
    readonly camera: CameraConfig,
    private readonly deps: SupervisorDeps,
  ) {
    this.log = deps.logger.child({ camera: camera.name });
    this.backoff = new Backoff({
      initialMs: deps.ingest.backoff_initial_s * 1000,
      maxMs: deps.ingest.backoff_max_s * 1000,
      ...(deps.random ? { random: deps.random } : {}),
    });
    this.args = cameraArgs(camera, deps.ffmpeg, {
      inputArgs: deps.inputArgs ?? [],
      ...(deps.decodeThreads !== undefined ? { decodeThreads: deps.decodeThreads } : {}),
      // ffmpeg's socket timeout is the second line of defence: it must fire after vigil's watchdog (both of
      // its limits, plus its tick and the kill grace). When it fires first on a camera that accepts the
      // connection and never answers, the bundled ffmpeg reports "Invalid data found when processing input",
      // and a hung camera would show as failed (a stream a person must fix) instead of down.
      socketTimeoutS: Math.max(deps.ingest.stall_timeout_s, deps.ingest.startup_timeout_s) + 5,
    });
    const { width, height } = camera.detect;
    this.reader = new FrameReader(camera.name, width, height, {
      onFrame: () => this.onFrame(),
      onDrop: (reason) => deps.observer?.dropped?.(camera.name, reason),
      onConsumerError: (err) => this.log.error({ err }, 'frame consumer failed'),
    });
  }

  get state(): CameraState {
    return this.currentState;
  }

  /** The pid of the running ffmpeg child, if one runs (tests and CPU accounting use it). */
  get pid(): number | undefined {
    return this.source?.pid;
  }

  setConsumer(consumer: FrameConsumer | undefined): void {
    this.reader.setConsumer(consumer);
  }

  start(): void {
    this.stopping = false;
    const stallMs = this.deps.ingest.stall_timeout_s * 1000;
    this.watchdog = setInterval(() => this.checkStall(), Math.min(1000, stallMs / 4));
    this.watchdog.unref();
    this.log.info({ url: redactCredentials(this.camera.url), detect: this.camera.detect }, 'camera starting');
    this.launch();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    await this.source?.stop();
    this.currentState = 'stopped';
  }

  status(): CameraStatus {
    const now = Date.now();
    return {
      name: this.camera.name,
      location: this.camera.location,
      url: redactCredentials(this.camera.url),
      state: this.currentState,
      fps: this.fps(now),
      frames: this.frames,
      lastFrameAt: this.lastFrameAt,
      lastFrameAgeS: this.lastFrameAt === null ? null : (now - this.lastFrameAt) / 1000,
      restarts: this.restarts,
      lastError: this.lastError,
      upSince: this.currentState === 'up' ? this.upAt : null,
    };
  }

  private launch(): void {
    this.stallError = undefined;
    const source = new CameraSource(this.deps.ffmpeg.path, this.args, {
      onData: (chunk) => this.reader.push(chunk),
      onError: (error) => this.log.debug({ kind: error.kind, detail: error.detail }, 'ffmpeg reported an error'),
      onUnrecognisedLine: (line) => this.log.debug({ ffmpeg: line }, 'ffmpeg'),
    });
    this.source = source;
    this.running = true;
    source.start();
    void source.exited.then((exit) => this.onExit(source, exit));
  }

  private onFrame(): void {
    const now = Date.now();
    this.frames++;
    this.lastFrameAt = now;
    this.frameTimes.push(now);
    if (this.frameTimes.length > 1 && now - this.frameTimes[0]! > FPS_WINDOW_MS) this.frameTimes.shift();
    this.deps.observer?.frame?.(this.camera.name);
    if (this.currentState !== 'up') {
      const seconds = this.source ? (performance.now() - this.source.startedAt) / 1000 : 0;
      this.upSince = performance.now();
      this.upAt = now;
      this.currentState = 'up';
      this.deps.observer?.connected?.(this.camera.name, seconds);
      this.log.info({ connect_s: round(seconds) }, 'camera up');
    }
  }

  private onExit(source: CameraSource, exit: SourceExit): void {
    if (source !== this.source) return;
    this.running = false;
    this.reader.reset();
    this.frameTimes = [];
    if (this.stopping) return;
    const error = this.stallError ?? exit.error ?? exitError(exit);
    this.lastError = { kind: error.kind, message: error.message, at: new Date().toISOString() };
    this.deps.observer?.error?.(this.camera.name, error.kind);
    if (this.currentState === 'up' && performance.now() - this.upSince >= this.deps.ingest.stable_after_s * 1000) {
      this.backoff.reset();
    }
    this.currentState = error.needsAttention ? 'failed' : 'down';
    const delayMs = this.backoff.next();
    this.log.warn(
      { kind: error.kind, detail: error.detail, exit_code: exit.code, signal: exit.signal, retry_in_s: round(delayMs / 1000) },
      `camera ${this.currentState}: ${error.message}`,
    );
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.deps.observer?.restarted?.(this.camera.name);
      this.launch();
    }, delayMs);
    this.restartTimer.unref();
  }

  private checkStall(): void {
    const source = this.source;
    if (!source || !this.running || this.stallError || this.stopping) return;
    const now = performance.now();
    const connected = this.currentState === 'up';
    const limitS = connected ? this.deps.ingest.stall_timeout_s : this.deps.ingest.startup_timeout_s;
    const sinceS = (now - (connected ? source.lastByteAt : source.startedAt)) / 1000;
    if (sinceS < limitS) return;
    this.stallError = {
      kind: 'stall',
      needsAttention: false,
      message: connected
        ? `no video for ${round(sinceS)} s: the camera or the network hung; restarting ffmpeg`
        : `no first frame within ${round(sinceS)} s of connecting: the camera is not sending video; restarting ffmpeg`,
    };
    void source.stop(1000);
  }

  private fps(now: number): number {
    const times = this.frameTimes;
    if (times.length < 2 || now - times[times.length - 1]! > FPS_WINDOW_MS) return 0;
    return round(((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!));
  }
}

function exitError(exit: SourceExit): CameraError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return {
    kind: 'exited',
    needsAttention: false,
    // ffmpeg exits 0 without a word when an RTSP server goes away.
    message: `the stream ended (ffmpeg ${how})${exit.lastLine ? `: ${exit.lastLine}` : ''}`,
    ...(exit.lastLine ? { detail: exit.lastLine } : {}),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
