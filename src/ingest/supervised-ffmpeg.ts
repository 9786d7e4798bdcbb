// One ffmpeg kept running for as long as someone needs it: restarted with back-off when it exits, killed
// when it stalls (ffmpeg can hang for ever on a hung server, and exits 0 when a server dies), stopped with
// SIGTERM and then SIGKILL (it can hang inside a network read). Ingest runs one per camera for months; the
// live view runs one per watched camera. What the bytes mean, and what to tell whom, is the owner's.
import type { ChildProcess } from 'node:child_process';
import { redactCredentials } from '../config/redact.js';
import { Backoff } from './backoff.js';
import { classifyFfmpegLine, LineSplitter, type CameraError } from './ffmpeg-errors.js';

export interface SupervisionTiming {
  /** A run that has produced output and then nothing for this long is killed and restarted. */
  stallMs: number;
  /** A run with no output this long after its start is killed and restarted. */
  startupMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A run that produced output for this long resets the back-off. */
  stableAfterMs: number;
  /** SIGTERM, then SIGKILL after this long. */
  killGraceMs: number;
}

/** How one run ended. */
export interface RunExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it ended, as the operator should read it: the stall, a failed spawn, the last failure ffmpeg
   * reported that vigil recognises, or else how ffmpeg exited. */
  failure: CameraError;
  /** The watchdog killed it. */
  stalled: boolean;
  /** It produced output before it ended. */
  hadOutput: boolean;
  /** Milliseconds from its start to its end. */
  ranMs: number;
}

export interface SupervisedFfmpegHooks {
  /** Starts one run: an ffmpeg child with piped stdout and stderr. Undefined when there is nothing to run
   * any more (the camera was removed): supervision then ends until start() is called again. */
  spawn(): ChildProcess | undefined;
  output(chunk: Buffer): void;
  /** A run's first output, `connectS` seconds after it started. */
  firstOutput?(connectS: number): void;
  /** Every stderr line, credentials removed, with what vigil recognises in it. */
  stderr?(line: string, error: CameraError | undefined): void;
  /** A run ended by itself (or by the watchdog). Returns the delay before the next run when this was a
   * normal end to repeat at once (a file that ended), or undefined for a failure: the next run then waits
   * for the back-off and `failed` is called. */
  ended?(exit: RunExit): number | undefined;
  failed(exit: RunExit, retryInMs: number): void;
  /** A run is about to start again after a failure. */
  restarting?(): void;
}

interface Run {
  child: ChildProcess;
  startedAt: number;
  firstOutputAt: number | undefined;
  lastOutputAt: number;
  stallError: CameraError | undefined;
  spawnError: CameraError | undefined;
  error: CameraError | undefined;
  lastLine: string | undefined;
  exited: Promise<void>;
}

export class SupervisedFfmpeg {
  private readonly backoff: Backoff;
  private run: Run | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private active = false;

  constructor(
    private readonly ffmpegPath: string,
    private readonly timing: SupervisionTiming,
    private readonly hooks: SupervisedFfmpegHooks,
    random?: () => number,
  ) {
    this.backoff = new Backoff({ initialMs: timing.backoffInitialMs, maxMs: timing.backoffMaxMs, ...(random ? { random } : {}) });
  }

  /** The running child's pid, if one runs (tests and CPU accounting use it). */
  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  /** True from start() until stop(), including the back-off waits between runs. */
  get running(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.watchdog = setInterval(() => this.checkStall(), Math.min(1000, this.timing.stallMs / 4));
    this.watchdog.unref();
    this.launch();
  }

  /** Stops supervising and the running child; resolves when it has exited. */
  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    clearInterval(this.watchdog);
    const run = this.run;
    if (run) await this.kill(run);
  }

  private launch(): void {
    this.restartTimer = undefined;
    if (!this.active) return;
    const child = this.hooks.spawn();
    if (!child) {
      void this.stop();
      return;
    }
    let resolveExited!: () => void;
    const now = performance.now();
    const run: Run = {
      child,
      startedAt: now,
      firstOutputAt: undefined,
      lastOutputAt: now,
      stallError: undefined,
      spawnError: undefined,
      error: undefined,
      lastLine: undefined,
      exited: new Promise((resolve) => (resolveExited = resolve)),
    };
    this.run = run;
    const lines = new LineSplitter((line) => this.onStderrLine(run, line));
    child.stdout!.on('data', (chunk: Buffer) => this.onOutput(run, chunk));
    child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      run.spawnError = {
        kind: 'exited',
        needsAttention: true,
        message: `cannot start ffmpeg at ${this.ffmpegPath} (${err.code ?? err.message})`,
      };
    });
    // 'close' comes after stdout has drained (every byte is delivered before the exit is reported), and
    // also after a failed spawn, which has no 'exit'.
    child.on('close', (code, signal) => {
      lines.flush();
      resolveExited();
      this.onClose(run, code, signal);
    });
  }

  private onOutput(run: Run, chunk: Buffer): void {
    if (run !== this.run) return;
    const now = performance.now();
    run.lastOutputAt = now;
    if (run.firstOutputAt === undefined) {
      run.firstOutputAt = now;
      // Complaints before the video (a camera refusing UDP with 461) did not stop it: not why it may end.
      run.error = undefined;
      run.lastLine = undefined;
      this.hooks.firstOutput?.((now - run.startedAt) / 1000);
    }
    this.hooks.output(chunk);
  }

  private onStderrLine(run: Run, line: string): void {
    const text = redactCredentials(line.trim());
    const error = classifyFfmpegLine(line);
    if (error) run.error = error;
    else run.lastLine = text;
    this.hooks.stderr?.(text, error);
  }

  private onClose(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    if (run !== this.run) return;
    this.run = undefined;
    if (!this.active) return;
    const now = performance.now();
    if (run.firstOutputAt !== undefined && now - run.firstOutputAt >= this.timing.stableAfterMs) this.backoff.reset();
    const exit: RunExit = {
      code,
      signal,
      failure: run.stallError ?? run.spawnError ?? run.error ?? exitFailure(code, signal, run.lastLine),
      stalled: run.stallError !== undefined,
      hadOutput: run.firstOutputAt !== undefined,
      ranMs: now - run.startedAt,
    };
    const replayInMs = this.hooks.ended?.(exit);
    if (replayInMs !== undefined) {
      this.restartTimer = setTimeout(() => this.launch(), replayInMs);
      this.restartTimer.unref();
      return;
    }
    const delayMs = this.backoff.next();
    this.hooks.failed(exit, delayMs);
    this.restartTimer = setTimeout(() => {
      if (!this.active) return;
      this.hooks.restarting?.();
      this.launch();
    }, delayMs);
    this.restartTimer.unref();
  }

  private checkStall(): void {
    const run = this.run;
    if (!run || run.stallError || !this.active) return;
    const flowing = run.firstOutputAt !== undefined;
    const limitMs = flowing ? this.timing.stallMs : this.timing.startupMs;
    const sinceMs = performance.now() - (flowing ? run.lastOutputAt : run.startedAt);
    if (sinceMs < limitMs) return;
    const sinceS = round(sinceMs / 1000);
    run.stallError = {
      kind: 'stall',
      needsAttention: false,
      message: flowing
        ? `no video for ${sinceS} s: the camera or the network hung; restarting ffmpeg`
        : `no video within ${sinceS} s of starting ffmpeg: the camera is not sending video; restarting ffmpeg`,
    };
    void this.kill(run);
  }

  private kill(run: Run): Promise<void> {
    const { child } = run;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timing.killGraceMs);
      void run.exited.then(() => clearTimeout(timer));
    }
    return run.exited;
  }
}

function exitFailure(code: number | null, signal: NodeJS.Signals | null, lastLine: string | undefined): CameraError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return {
    kind: 'exited',
    needsAttention: false,
    // ffmpeg exits 0 without a word when an RTSP server goes away.
    message: `the stream ended (ffmpeg ${how})${lastLine ? `: ${lastLine}` : ''}`,
    ...(lastLine ? { detail: lastLine } : {}),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
