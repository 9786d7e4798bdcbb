// Makes an MP4 of one camera's recorded video over a window of time, without re-encoding: the segments that
// cover it are checked against the SHA-256 recorded when each was closed and fed, in the order they were
// recorded, to an ffmpeg that copies them into a faststart MP4 (the index up front, so a browser plays it
// while it loads). The clip starts at the keyframe that opens the first segment (at most one segment before
// the window) and is cut at the window's end, which needs no keyframe. It is written under a temporary name,
// flushed to disk, hashed and renamed: whoever finds the file by its final name finds it whole.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { digestFile, readHead } from './file-digest.js';
import { filesUnder } from './file-tree.js';
import type { ClipRef } from '../events/store.js';
import type { Segment, SegmentIndex } from './segment-index.js';
import { tsVideoCodec } from './ts-codec.js';

/** What was made; its `path` is relative to the folder it was written under. */
export type Clip = ClipRef;

export interface ClipRequest {
  camera: string;
  from: number;
  to: number;
  /** Where to write it, relative to `root`, without extension. */
  name: string;
  /** Which moment the clip must show when the window holds several runs (the camera dropped): the event's start. */
  anchor?: number;
}

/** Nothing was recorded for the window (recording off or paused, or the ring no longer holds it). */
export class NoVideoError extends Error {}
/** A segment no longer matches the hash recorded when it was closed: no clip is made from it. */
export class SegmentTamperedError extends Error {}

export const PARTIAL_SUFFIX = '.partial';
/** The program tables that name the codec open every segment ffmpeg writes, in its first few packets. */
const CODEC_HEAD_BYTES = 64 * 1024;

/**
 * Clips and exports assembled at once; the rest wait their turn. Busy cameras end many events together (the
 * soak's 8 street cameras had 10-13 assemblies running at once), and each is an ffmpeg of its own plus
 * the segments being read and hashed: on a 2-4 core box that burst competes with detection, while a clip that
 * is ready a few seconds later loses nothing (its segments stay pinned while it waits).
 */
export const ASSEMBLIES_AT_ONCE = 2;

export class ClipAssembler {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly ffmpegPath: string,
    private readonly index: SegmentIndex,
    /** data_dir/recordings */
    private readonly recordingsRoot: string,
    private readonly atOnce = ASSEMBLIES_AT_ONCE,
  ) {}

  /** The run of segments that play back to back covering [from, to), around `anchor`. */
  segmentsFor(camera: string, from: number, to: number, anchor = from): Segment[] {
    const runs: Segment[][] = [];
    for (const s of this.index.window(camera, from, to)) {
      const current = runs[runs.length - 1];
      const previous = current?.[current.length - 1];
      if (current && previous && previous.run === s.run && s.idx === previous.idx + 1) current.push(s);
      else runs.push([s]);
    }
    if (runs.length === 0) return [];
    // The run holding the anchor, else the first that ends after it, else the last.
    return runs.find((r) => r[0]!.start <= anchor && r[r.length - 1]!.end > anchor) ?? runs.find((r) => r[r.length - 1]!.end > anchor) ?? runs[runs.length - 1]!;
  }

  /** Assembles the clip once one of the `atOnce` slots is free. */
  async assemble(request: ClipRequest, root: string): Promise<Clip> {
    await this.takeSlot();
    try {
      return await this.assembleNow(request, root);
    } finally {
      this.freeSlot();
    }
  }

  private takeSlot(): Promise<void> {
    if (this.running < this.atOnce) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private freeSlot(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next in line, so `running` counts it still.
    if (next) next();
    else this.running--;
  }

  private async assembleNow(request: ClipRequest, root: string): Promise<Clip> {
    const segments = this.segmentsFor(request.camera, request.from, request.to, request.anchor);
    if (segments.length === 0) throw new NoVideoError(`camera ${request.camera}: nothing was recorded between ${iso(request.from)} and ${iso(request.to)}`);
    const first = segments[0]!;
    const last = segments[segments.length - 1]!;
    const start = first.start;
    const end = Math.min(request.to, last.end);
    const truncated = last.end < request.to && last.last;
    const file = path.join(root, `${request.name}.mp4`);
    const partial = file + PARTIAL_SUFFIX;
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    let head: Buffer;
    try {
      head = await readHead(path.join(this.recordingsRoot, first.path), CODEC_HEAD_BYTES);
    } catch (err) {
      throw unreadable(first, err);
    }
    const codec = tsVideoCodec(head) ?? 'unknown';
    const args = [
      '-nostdin', '-hide_banner', '-loglevel', 'error',
      '-f', 'mpegts', '-i', 'pipe:0',
      '-map', '0:v:0', '-c', 'copy',
      // Safari and the players that play H.265 from an MP4 want it tagged hvc1.
      ...(codec === 'hevc' ? ['-tag:v', 'hvc1'] : []),
      '-t', ((end - start) / 1000).toFixed(3),
      '-movflags', '+faststart', '-f', 'mp4', '-y', partial,
    ];
    try {
      await this.runFfmpeg(args, async (write) => {
        for (const s of segments) await this.feedVerified(s, write);
      }, request.camera);
      const { sha256, bytes } = await digestFile(partial, { sync: true });
      if (bytes === 0) throw new Error(`camera ${request.camera}: ffmpeg wrote an empty clip`);
      await rename(partial, file);
      await syncDir(path.dirname(file));
      return { path: path.relative(root, file), sha256, bytes, start, end, codec, truncated };
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  /**
   * Feeds a segment to ffmpeg chunk by chunk, hashing as it goes. A segment that turns out not to match its
   * recorded hash fails the clip (ffmpeg is killed and its partial file removed), so no clip is ever made
   * from it, without holding a whole segment in memory to check it first.
   */
  private async feedVerified(segment: Segment, write: (data: Buffer) => Promise<void>): Promise<void> {
    let actual: string;
    try {
      actual = (await digestFile(path.join(this.recordingsRoot, segment.path), { onChunk: write })).sha256;
    } catch (err) {
      throw unreadable(segment, err);
    }
    if (actual !== segment.sha256) throw new SegmentTamperedError(`segment ${segment.path} no longer matches the SHA-256 recorded when it was written (${segment.sha256}, now ${actual})`);
  }

  /**
   * Runs ffmpeg while `feed` writes its input. Done when both are: ffmpeg may stop reading once the clip's
   * length is reached, while the segment it stopped in is still being hashed, and a segment found changed then
   * still fails the clip. On failure ffmpeg is killed and waited for, so its partial file can be removed.
   */
  private async runFfmpeg(args: string[], feed: (write: (data: Buffer) => Promise<void>) => Promise<void>, camera: string): Promise<void> {
    const child = spawn(this.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    // ffmpeg stops reading once the clip's length is reached; the rest is not needed.
    child.stdin.on('error', () => {});
    const exited = new Promise<void>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`cannot start ffmpeg at ${this.ffmpegPath} (${err.message})`)));
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`camera ${camera}: ffmpeg could not assemble the clip (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').pop() ?? ''}`));
      });
    });
    // Awaited below; until then a failure must not count as unhandled.
    exited.catch(() => {});
    const write = (data: Buffer) =>
      new Promise<void>((done) => {
        if (child.stdin.destroyed || child.stdin.write(data)) return done();
        // Whichever comes first; the other listener goes with it (a clip of many segments would pile them up).
        const resume = () => {
          child.stdin.off('drain', resume);
          child.stdin.off('close', resume);
          done();
        };
        child.stdin.on('drain', resume);
        child.stdin.on('close', resume);
      });
    try {
      await feed(write);
    } catch (err) {
      child.kill('SIGKILL');
      await exited.catch(() => {});
      throw err;
    }
    child.stdin.end();
    await exited;
  }
}

/** Removes what a crash left half-written under `root` (clips or exports being assembled). Returns how many. */
export function sweepPartials(root: string): number {
  let removed = 0;
  for (const file of filesUnder(root)) {
    if (!file.endsWith(PARTIAL_SUFFIX)) continue;
    rmSync(file, { force: true });
    removed++;
  }
  return removed;
}

/** Removes segment files no index row names (the tail of a run vigil never heard closed, after a crash). */
export function sweepUnindexedSegments(root: string, indexed: ReadonlySet<string>): number {
  let removed = 0;
  for (const file of filesUnder(root)) {
    if (!file.endsWith('.ts') || indexed.has(path.relative(root, file))) continue;
    rmSync(file, { force: true });
    removed++;
  }
  return removed;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function unreadable(segment: Segment, err: unknown): NoVideoError {
  return new NoVideoError(`segment ${segment.path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
