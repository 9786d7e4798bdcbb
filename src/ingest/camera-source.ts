// One run of one ffmpeg child for one camera: spawn, stream stdout bytes out, classify stderr, report exit.
// Restarting is the supervisor's business; a CameraSource runs once.
import { spawn, type ChildProcess } from 'node:child_process';
import { redactCredentials } from '../config/redact.js';
import { classifyFfmpegLine, LineSplitter, type CameraError } from './ffmpeg-errors.js';

export interface SourceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last failure ffmpeg reported that vigil recognises, if any. */
  error?: CameraError;
  /** The last stderr line vigil did not recognise, credentials removed. */
  lastLine?: string;
}

export interface SourceHandlers {
  onData(chunk: Buffer): void;
  onError(error: CameraError): void;
  onUnrecognisedLine(line: string): void;
}

export class CameraSource {
  private child: ChildProcess | undefined;
  private error: CameraError | undefined;
  private lastLine: string | undefined;
  readonly exited: Promise<SourceExit>;
  private resolveExit!: (exit: SourceExit) => void;
  /** performance.now() of the last stdout byte, or of the spawn before any. */
  lastByteAt = 0;
  startedAt = 0;

  constructor(
    private readonly ffmpegPath: string,
    private readonly args: readonly string[],
    private readonly handlers: SourceHandlers,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.startedAt = this.lastByteAt = performance.now();
    const child = spawn(this.ffmpegPath, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const lines = new LineSplitter((line) => this.onStderrLine(line));
    child.stdout!.on('data', (chunk: Buffer) => {
      this.lastByteAt = performance.now();
      this.handlers.onData(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.error = {
        kind: 'exited',
        needsAttention: true,
        message: `cannot start ffmpeg at ${this.ffmpegPath} (${err.code ?? err.message})`,
      };
    });
    // 'close' waits for stdout to drain, so every byte is delivered before the exit is reported.
    child.on('close', (code, signal) => {
      lines.flush();
      this.resolveExit({
        code,
        signal,
        ...(this.error ? { error: this.error } : {}),
        ...(this.lastLine ? { lastLine: this.lastLine } : {}),
      });
    });
  }

  /** Asks ffmpeg to stop, and kills it if it has not within graceMs (it can hang inside a network read). */
  async stop(graceMs = 2000): Promise<SourceExit> {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }

  private onStderrLine(line: string): void {
    const error = classifyFfmpegLine(line);
    if (error) {
      this.error = error;
      this.handlers.onError(error);
    } else {
      this.lastLine = redactCredentials(line.trim());
      this.handlers.onUnrecognisedLine(this.lastLine);
    }
  }
}
