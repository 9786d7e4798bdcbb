// Keeps one camera's frames flowing for months (a SupervisedFfmpeg restarts and unsticks ffmpeg), cuts its
// output into frames, and knows the camera's state for health and metrics.
import type { Logger } from 'pino';
import { redactCredentials } from '../config/redact.js';
import type { CameraConfig, IngestConfig } from '../config/schema.js';
import { spawn } from 'node:child_process';
import { cameraArgs, type FfmpegBinary } from './ffmpeg.js';
import type { CameraErrorKind } from './ffmpeg-errors.js';
import { FrameReader, type DropReason, type FrameConsumer } from './frame-reader.js';
import { SupervisedFfmpeg, type RunExit } from './supervised-ffmpeg.js';
import type { SegmentRecorder } from '../recording/segment-recorder.js';

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
  /** Copies the camera's own stream to disk from the same ffmpeg (no second connection, no re-encoding). */
  recorder?: SegmentRecorder;
}

/** stderr lines of a run kept to tell why it ended (the disk, for the recorder). */
const STDERR_KEPT = 20;

const FPS_WINDOW_MS = 10_000;

export class CameraSupervisor {
  readonly reader: FrameReader;
  private readonly log: Logger;
  private readonly ffmpeg: SupervisedFfmpeg;
  private currentState: CameraState = 'starting';
  private upAt: number | null = null;
  private connectS = 0;
  private frameTimes: number[] = [];
  private frames = 0;
  private lastFrameAt: number | null = null;
  private restarts = 0;
  private lastError: CameraStatus['lastError'] = null;
  private stderrLines: string[] = [];

  constructor(
    readonly camera: CameraConfig,
    private readonly deps: SupervisorDeps,
  ) {
    this.log = deps.logger.child({ camera: camera.name });
    const { ingest } = deps;
    const args = cameraArgs(camera, deps.ffmpeg, {
      inputArgs: deps.inputArgs ?? [],
      ...(deps.decodeThreads !== undefined ? { decodeThreads: deps.decodeThreads } : {}),
      // ffmpeg's socket timeout is the second line of defence: it must fire after vigil's watchdog (both of
      // its limits, plus its tick and the kill grace). When it fires first on a camera that accepts the
      // connection and never answers, the bundled ffmpeg reports "Invalid data found when processing input",
      // and a hung camera would show as failed (a stream a person must fix) instead of down.
      socketTimeoutS: Math.max(ingest.stall_timeout_s, ingest.startup_timeout_s) + 5,
    });
    const { width, height } = camera.detect;
    this.reader = new FrameReader(camera.name, width, height, {
      onFrame: () => this.onFrame(),
      onDrop: (reason) => deps.observer?.dropped?.(camera.name, reason),
      onConsumerError: (err) => this.log.error({ err }, 'frame consumer failed'),
    });
    const ffmpegPath = deps.ffmpeg.path;
    this.ffmpeg = new SupervisedFfmpeg(
      ffmpegPath,
      {
        stallMs: ingest.stall_timeout_s * 1000,
        startupMs: ingest.startup_timeout_s * 1000,
        backoffInitialMs: ingest.backoff_initial_s * 1000,
        backoffMaxMs: ingest.backoff_max_s * 1000,
        stableAfterMs: ingest.stable_after_s * 1000,
        killGraceMs: 2000,
      },
      {
        spawn: () => {
          this.stderrLines = [];
          const recorder = deps.recorder;
          const output = recorder?.outputArgs() ?? [];
          const child = spawn(ffmpegPath, [...args, ...output], { stdio: ['ignore', 'pipe', 'pipe', output.length ? 'pipe' : 'ignore'] });
          if (output.length) recorder!.attach(child.stdio[3] as import('node:stream').Readable | null);
          return child;
        },
        output: (chunk) => this.reader.push(chunk),
        firstOutput: (seconds) => (this.connectS = seconds),
        stderr: (line, error) => {
          this.stderrLines.push(line);
          if (this.stderrLines.length > STDERR_KEPT) this.stderrLines.shift();
          if (error) this.log.debug({ kind: error.kind, detail: error.detail }, 'ffmpeg reported an error');
          else this.log.debug({ ffmpeg: line }, 'ffmpeg');
        },
        // A camera's stream never ends normally (a file source loops inside ffmpeg).
        ended: () => {
          this.reader.reset();
          this.frameTimes = [];
          void deps.recorder?.runEnded(this.stderrLines);
          return undefined;
        },
        failed: (exit, retryInMs) => this.onFailure(exit, retryInMs),
        restarting: () => {
          this.restarts++;
          deps.observer?.restarted?.(camera.name);
        },
      },
      deps.random,
    );
  }

  get state(): CameraState {
    return this.currentState;
  }

  /** The pid of the running ffmpeg child, if one runs (tests and CPU accounting use it). */
  get pid(): number | undefined {
    return this.ffmpeg.pid;
  }

  setConsumer(consumer: FrameConsumer | undefined): void {
    this.reader.setConsumer(consumer);
  }

  start(): void {
    this.log.info({ url: redactCredentials(this.camera.url), detect: this.camera.detect }, 'camera starting');
    this.ffmpeg.start();
  }

  async stop(): Promise<void> {
    await this.ffmpeg.stop();
    this.deps.recorder?.stop();
    await this.deps.recorder?.runEnded([]);
    this.reader.reset();
    this.frameTimes = [];
    this.currentState = 'stopped';
  }

  /** Starts a new ffmpeg run at once (recording can resume): the frames pause for the reconnect. */
  async restart(): Promise<void> {
    if (!this.ffmpeg.running) return;
    await this.ffmpeg.stop();
    await this.deps.recorder?.runEnded([]);
    this.reader.reset();
    this.ffmpeg.start();
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

  private onFrame(): void {
    const now = Date.now();
    this.frames++;
    this.lastFrameAt = now;
    this.frameTimes.push(now);
    if (this.frameTimes.length > 1 && now - this.frameTimes[0]! > FPS_WINDOW_MS) this.frameTimes.shift();
    this.deps.observer?.frame?.(this.camera.name);
    if (this.currentState !== 'up') {
      this.upAt = now;
      this.currentState = 'up';
      this.deps.observer?.connected?.(this.camera.name, this.connectS);
      this.log.info({ connect_s: round(this.connectS) }, 'camera up');
    }
  }

  private onFailure(exit: RunExit, retryInMs: number): void {
    const error = exit.failure;
    this.lastError = { kind: error.kind, message: error.message, at: new Date().toISOString() };
    this.deps.observer?.error?.(this.camera.name, error.kind);
    this.currentState = error.needsAttention ? 'failed' : 'down';
    this.log.warn(
      { kind: error.kind, detail: error.detail, exit_code: exit.code, signal: exit.signal, retry_in_s: round(retryInMs / 1000) },
      `camera ${this.currentState}: ${error.message}`,
    );
  }

  private fps(now: number): number {
    const times = this.frameTimes;
    if (times.length < 2 || now - times[times.length - 1]! > FPS_WINDOW_MS) return 0;
    return round(((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!));
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
