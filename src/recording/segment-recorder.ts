// One camera's recording: its ffmpeg also copies the camera's own stream, without re-encoding, into short
// MPEG-TS segments cut at keyframes (so any segment starts a playable run), and tells vigil of each one it
// closes on a pipe (fd 3). vigil hashes the segment as it is closed and indexes it with its wall-clock times.
// MPEG-TS because a segment cut short (the camera dropped, ffmpeg killed) is still readable up to its last
// packet, and segments of one run join byte for byte.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { RecordConfig, RecordingConfig } from '../config/schema.js';
import type { SegmentIndex } from './segment-index.js';
import { digestFile, type FileDigest } from './file-digest.js';
import { freeBytes } from './free-space.js';

export interface RecorderObserver {
  segment?(camera: string, bytes: number): void;
  active?(camera: string, active: boolean): void;
}

/** A segment's times come from ffmpeg's stream clock mapped onto the wall clock; a jump this large is the wall clock's. */
const CLOCK_JUMP_MS = 2000;
/** How quickly the stream-to-wall offset follows a camera clock that runs slow (per segment). */
const DRIFT_FOLLOW = 0.05;
/** While paused for lack of space, how often the disk is looked at again. */
const SPACE_CHECK_MS = 15_000;

interface Run {
  id: string;
  /** Where its segments are written (ffmpeg's list names them by their base name). */
  dir: string;
  /** Wall time (ms) minus stream time (ms): the smallest seen, the least delayed. */
  offset: number | undefined;
  pending: Set<Promise<void>>;
  lines: string;
}

export interface SegmentRecorderDeps {
  index: SegmentIndex;
  /** data_dir/recordings */
  root: string;
  settings: () => RecordingConfig;
  logger: Logger;
  observer?: RecorderObserver;
  /** The wall clock (tests move it to show what a clock jump does). */
  now?: () => number;
  /** Recording starts or stops (paused for lack of space, or resumed): the camera's ffmpeg must be restarted to take it up. */
  resume(): void;
}

export class SegmentRecorder {
  private run: Run | undefined;
  private paused: 'disk_full' | undefined;
  private spaceTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly camera: string,
    private readonly record: RecordConfig,
    private readonly deps: SegmentRecorderDeps,
  ) {
    this.log = deps.logger.child({ camera, stage: 'recording' });
  }

  /** Recording is wanted for this camera at all. */
  get enabled(): boolean {
    return this.record.events !== false || this.record.continuous !== false;
  }

  /**
   * The output options of a new ffmpeg run, to follow its frame output: none while recording is off or
   * paused. The run's segments are announced on fd 3 (see attach()).
   */
  outputArgs(): string[] {
    this.run = undefined;
    if (!this.enabled) return [];
    this.watchSpace();
    if (this.paused) return [];
    if (!this.hasSpace()) {
      this.pause('disk_full', 'the disk under data_dir has less free space than recording.min_free_mb');
      return [];
    }
    const started = new Date();
    const id = `${started.toISOString().slice(0, 19).replace(/[-:]/g, '')}-${Math.random().toString(36).slice(2, 6)}`;
    const day = started.toISOString().slice(0, 10);
    const dir = path.join(this.deps.root, this.camera, day);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.run = { id, dir, offset: undefined, pending: new Set(), lines: '' };
    return [
      '-map', '0:v:0', '-c:v', 'copy', '-an', '-sn', '-dn',
      '-f', 'segment', '-segment_format', 'mpegts', '-segment_time', String(this.deps.settings().segment_s),
      // Timestamps run on across the run's segments: joined, they play as one stream.
      '-reset_timestamps', '0',
      '-segment_list', 'pipe:3', '-segment_list_type', 'csv',
      path.join(dir, `${id}-%06d.ts`),
    ];
  }

  /** Reads the run's segment announcements from its fd 3. */
  attach(list: Readable | null | undefined): void {
    const run = this.run;
    if (!run || !list) return;
    this.deps.observer?.active?.(this.camera, true);
    list.on('data', (chunk: Buffer) => {
      run.lines += chunk.toString('utf8');
      let newline: number;
      while ((newline = run.lines.indexOf('\n')) >= 0) {
        const line = run.lines.slice(0, newline).trim();
        run.lines = run.lines.slice(newline + 1);
        if (line) this.track(run, this.closed(run, line, (this.deps.now ?? Date.now)()));
      }
    });
    list.on('error', () => {});
  }

  /**
   * The run ended (the camera dropped, or vigil stopped it): its last segment is marked so a clip that
   * reaches it says the video stopped there. A failure that was the disk's pauses recording.
   */
  async runEnded(stderrLines: readonly string[]): Promise<void> {
    const run = this.run;
    this.run = undefined;
    if (!run) return;
    this.deps.observer?.active?.(this.camera, false);
    while (run.pending.size) await Promise.allSettled([...run.pending]);
    this.deps.index.runEnded(this.camera, run.id);
    if (stderrLines.some((l) => /No space left on device|ENOSPC/i.test(l))) {
      this.pause('disk_full', 'ffmpeg could not write a segment: no space left on device');
    }
  }

  stop(): void {
    clearInterval(this.spaceTimer);
    this.spaceTimer = undefined;
  }

  private track(run: Run, work: Promise<void>): void {
    run.pending.add(work);
    void work.finally(() => run.pending.delete(work));
  }

  private async closed(run: Run, line: string, now: number): Promise<void> {
    // csv: file,start,end (stream seconds); a file name with a comma is quoted.
    const match = /^"?(.*?)"?,(-?[\d.]+),(-?[\d.]+)$/.exec(line);
    if (!match) {
      this.log.warn({ line }, 'ffmpeg announced a segment vigil cannot read');
      return;
    }
    const [, file, startS, endS] = match as unknown as [string, string, string, string];
    const streamStart = Number(startS) * 1000;
    const streamEnd = Number(endS) * 1000;
    // ffmpeg announces a segment as the keyframe after it arrives: its end is now, give or take the
    // pipeline's delay. The smallest offset seen is the least delayed; it follows a camera whose clock runs
    // slow, and re-anchors when the wall clock jumps (the segments keep their order in the index by id).
    const candidate = now - streamEnd;
    if (run.offset === undefined || Math.abs(candidate - run.offset) > CLOCK_JUMP_MS) {
      if (run.offset !== undefined) this.log.warn({ jump_ms: Math.round(candidate - run.offset) }, 'the wall clock jumped: recording times follow it');
      run.offset = candidate;
    } else if (candidate < run.offset) run.offset = candidate;
    else run.offset += (candidate - run.offset) * DRIFT_FOLLOW;
    const absolute = path.join(run.dir, path.basename(file));
    let digest: FileDigest;
    try {
      digest = await digestFile(absolute);
    } catch (err) {
      this.log.warn({ file: absolute, err: (err as Error).message }, 'a segment ffmpeg announced cannot be read');
      return;
    }
    const idx = Number(/-(\d+)\.ts$/.exec(absolute)?.[1] ?? -1);
    const continuous = this.record.continuous;
    const start = Math.round(run.offset + streamStart);
    this.deps.index.add({
      camera: this.camera,
      run: run.id,
      idx,
      path: path.relative(this.deps.root, absolute),
      start,
      end: Math.max(start, Math.round(run.offset + streamEnd)),
      bytes: digest.bytes,
      sha256: digest.sha256,
      keepUntil: continuous === false ? null : now + continuous.retention_days * 86_400_000,
      last: false,
    });
    this.deps.observer?.segment?.(this.camera, digest.bytes);
  }

  private hasSpace(): boolean {
    const { min_free_mb } = this.deps.settings();
    if (min_free_mb === 0) return true;
    try {
      mkdirSync(this.deps.root, { recursive: true, mode: 0o700 });
    } catch {
      return true;
    }
    return freeBytes(this.deps.root) >= min_free_mb * 1e6;
  }

  /** Looks at the disk while recording: below min_free_mb, the run is restarted without recording. */
  watchSpace(): void {
    if (this.spaceTimer || !this.enabled) return;
    this.spaceTimer = setInterval(() => {
      if (this.paused) {
        if (!this.hasSpace()) return;
        this.paused = undefined;
        this.log.info('recording resumes: there is room on the disk again');
        this.deps.resume();
      } else if (this.run && !this.hasSpace()) {
        this.pause('disk_full', 'the disk under data_dir has less free space than recording.min_free_mb');
        this.deps.resume();
      }
    }, SPACE_CHECK_MS);
    this.spaceTimer.unref();
  }

  private pause(reason: 'disk_full', message: string): void {
    if (this.paused) return;
    this.paused = reason;
    this.deps.observer?.active?.(this.camera, false);
    this.log.error({ reason }, `recording paused: ${message}; detection and events go on, and recording resumes once there is room (retention frees it, or free space on the disk)`);
  }
}
