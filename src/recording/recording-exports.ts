// Exports of a time range on one camera: an MP4 assembled from its recorded segments (no re-encoding), with its
// SHA-256. The timeline plays the same files. An export is kept for a while so that a player's seeking (one
// Range request after another) and a second download cost nothing; the segments it is made from are kept
// from retention while it is assembled.
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Clip, ClipAssembler } from './clip-assembler.js';
import { filesUnder } from './file-tree.js';
import type { Segment } from './segment-index.js';

/** The longest range one export may cover. */
export const MAX_EXPORT_MS = 3_600_000;
/** How long an assembled export stays ready to serve again. */
const KEEP_MS = 15 * 60_000;
/**
 * How long an export of a window still being recorded (it ends in the future) is served as it was made. Asked
 * again later, it has more; but a player reads one file in many Range requests, and each must come from the
 * same bytes: a newer, longer export has a longer index up front, so its offsets differ, and a browser that
 * seeked into one file with the next one's bytes failed to decode there (the timeline, CI).
 */
const GROWING_KEEP_MS = 60_000;

interface Entry {
  clip: Promise<Clip>;
  at: number;
  /** Its window reaches past what was recorded when it was made. */
  growing?: boolean;
  /** The file, once it is assembled. */
  path?: string;
}

const keptFor = (entry: Entry) => (entry.growing ? GROWING_KEEP_MS : KEEP_MS);

export class RecordingExports {
  private readonly ready = new Map<string, Entry>();
  private readonly inProgress = new Set<{ camera: string; from: number; to: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly assembler: ClipAssembler,
    /** data_dir/exports */
    readonly root: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.expire(), 60_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The export of [from, to) on `camera`, assembled once and kept a while. */
  get(camera: string, from: number, to: number): Promise<Clip> {
    const key = `${camera}/${from}-${to}`;
    const entry = this.ready.get(key);
    if (entry && Date.now() - entry.at < keptFor(entry)) return entry.clip;
    const window = { camera, from, to };
    this.inProgress.add(window);
    const stamp = new Date(from).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const clip = this.assembler
      .assemble({ camera, from, to, name: `${camera}/${stamp}-${Math.round((to - from) / 1000)}s-${Date.now().toString(36)}` }, this.root)
      .finally(() => this.inProgress.delete(window));
    const made: Entry = { clip, at: Date.now() };
    // A window reaching past what is recorded yet (it ends in the future) is kept only a minute: asked again
    // after that, it has more.
    clip.then((c) => {
      made.path = c.path;
      made.growing = c.end < to - 1000 && !c.truncated;
    }, () => this.ready.delete(key));
    this.ready.set(key, made);
    return clip;
  }

  /** Segments an export being assembled reads. */
  pinned(segment: Segment): boolean {
    for (const w of this.inProgress) if (w.camera === segment.camera && segment.end > w.from && segment.start < w.to) return true;
    return false;
  }

  private expire(): void {
    const now = Date.now();
    for (const [key, entry] of this.ready) if (now - entry.at >= keptFor(entry)) this.ready.delete(key);
    // Files whose entry is gone (expired, or from before a restart) go.
    const live = new Set([...this.ready.values()].flatMap((e) => (e.path ? [e.path] : [])));
    removeExcept(this.root, live, now - KEEP_MS);
  }
}

function removeExcept(root: string, keep: ReadonlySet<string>, before: number): void {
  for (const file of filesUnder(root)) {
    const st = statSync(file, { throwIfNoEntry: false });
    if (st && !keep.has(path.relative(root, file)) && st.mtimeMs < before) rmSync(file, { force: true });
  }
}
