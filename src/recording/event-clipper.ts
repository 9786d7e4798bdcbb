// A clip for every event: from pre_s before it starts to post_s after it ends, cut from the camera's
// recorded segments once they cover that window. It follows the store: an event committed with its end gets
// its clip; an event still going on keeps its segments from being deleted, and one longer than max_clip_s is
// cut into consecutive clips when it ends. The clip is on disk, whole and hashed, before the event's row names
// it (and, like any change, the new version reaches the bus and the hub with a new sequence number).
import path from 'node:path';
import type { Logger } from 'pino';
import type { RecordConfig, RecordingConfig } from '../config/schema.js';
import type { ClipRef, EventStore, StoredEvent } from '../events/store.js';
import { rm } from 'node:fs/promises';
import { NoVideoError, type ClipAssembler } from './clip-assembler.js';
import type { Segment } from './segment-index.js';

export interface ClipperObserver {
  clip?(result: 'written' | 'truncated' | 'no_video' | 'failed', seconds?: number): void;
}

interface Pending {
  event: StoredEvent;
  /** Parts already written (the event's clips). */
  parts: number;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
}

/** How long after a window's end to wait for its last segment before making the clip from what exists. */
const SEGMENT_GRACE_MS = 15_000;

export interface EventClipperDeps {
  store: EventStore;
  assembler: ClipAssembler;
  /** data_dir/clips */
  root: string;
  /** The camera's record settings, or undefined for a camera no longer configured. Read at every use (reloads). */
  record(camera: string): RecordConfig | undefined;
  settings(): RecordingConfig;
  logger: Logger;
  observer?: ClipperObserver;
}

export class EventClipper {
  private readonly pending = new Map<number, Pending>();
  private readonly work = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly deps: EventClipperDeps) {
    deps.store.onCommit((events) => {
      for (const e of events) this.consider(e);
    });
  }

  /** Events that ended within the ring's reach whose clips the last run did not finish (it stopped first): made now. */
  recover(now = Date.now()): number {
    const since = now - this.deps.settings().ring_minutes * 60_000;
    const events = this.deps.store.endedSince(since);
    for (const e of events) this.consider(e);
    return events.length;
  }

  /** The event's clip (or its next part) is still to be made. */
  clipPending(eventId: number): boolean {
    return this.pending.has(eventId);
  }

  /** Segments an open event, or a clip still to be made, needs: retention leaves them alone. */
  pinned(segment: Segment): boolean {
    for (const p of this.pending.values()) {
      if (p.event.camera !== segment.camera) continue;
      const window = this.window(p);
      if (!window) continue;
      if (segment.end > window.from && segment.start < (window.to ?? Infinity)) return true;
    }
    return false;
  }

  /** Waits for the clips being made; the ones still waiting for their window are left to recover(). */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    while (this.work.size) await Promise.allSettled([...this.work]);
  }

  private consider(event: StoredEvent): void {
    if (this.closed) return;
    const record = this.deps.record(event.camera);
    if (!record || record.events === false) return;
    const existing = this.pending.get(event.id);
    if (existing) {
      existing.event = event;
      if (!existing.busy) this.schedule(existing);
      return;
    }
    const p: Pending = { event, parts: event.clips.length, timer: undefined, busy: false };
    if (this.window(p) === undefined) return;
    this.pending.set(event.id, p);
    this.schedule(p);
  }

  /** The next part's window: [from, to), `to` undefined while the event goes on and the part is not full. */
  private window(p: Pending): { from: number; to: number | undefined; final: boolean } | undefined {
    const record = this.deps.record(p.event.camera);
    if (!record || record.events === false) return undefined;
    const { pre_s, post_s, max_clip_s } = record.events;
    const from = p.event.start - pre_s * 1000 + p.parts * max_clip_s * 1000;
    const full = from + max_clip_s * 1000;
    if (p.event.end === null) return { from, to: undefined, final: false };
    const end = p.event.end + post_s * 1000;
    if (from >= end) return undefined;
    return end > full ? { from, to: full, final: false } : { from, to: end, final: true };
  }

  private schedule(p: Pending): void {
    clearTimeout(p.timer);
    const window = this.window(p);
    if (!window) {
      this.pending.delete(p.event.id);
      return;
    }
    // An event still going on only holds its segments: how long it lasts is known when it ends (a track's
    // last sighting can be long before the tracker lets it go), and its clips are cut then.
    if (window.to === undefined) return;
    const due = Math.max(0, window.to - Date.now()) + this.deps.settings().segment_s * 1000;
    const to = window.to;
    p.timer = setTimeout(() => this.attempt(p, to, Date.now()), Math.min(due, 2 ** 31 - 1));
    p.timer.unref();
  }

  private attempt(p: Pending, to: number, firstTry: number): void {
    if (this.closed) return;
    const newest = this.deps.store.segments.newest(p.event.camera);
    // Not yet covered, the camera still recording, and not waited too long: look again shortly.
    if (newest && newest.end < to && !newest.last && Date.now() - firstTry < SEGMENT_GRACE_MS) {
      p.timer = setTimeout(() => this.attempt(p, to, firstTry), 1000);
      p.timer.unref();
      return;
    }
    const window = this.window(p);
    if (!window) {
      this.pending.delete(p.event.id);
      return;
    }
    p.busy = true;
    const job = this.makePart(p, window.from, window.to ?? to).finally(() => {
      p.busy = false;
      this.work.delete(job);
      if (this.closed) return;
      this.schedule(p);
    });
    this.work.add(job);
  }

  private async makePart(p: Pending, from: number, to: number): Promise<void> {
    const e = p.event;
    const started = performance.now();
    const part = p.parts;
    let clip: ClipRef;
    try {
      clip = await this.deps.assembler.assemble(
        { camera: e.camera, from, to, anchor: Math.max(from, Math.min(e.start, to - 1)), name: clipName(e, part) },
        this.deps.root,
      );
    } catch (err) {
      p.parts++;
      if (err instanceof NoVideoError) {
        this.deps.observer?.clip?.('no_video');
        this.deps.logger.debug({ camera: e.camera, event: e.id, part }, `no clip for event ${e.id}: ${err.message}`);
      } else {
        this.deps.observer?.clip?.('failed');
        this.deps.logger.error({ camera: e.camera, event: e.id, part, err: (err as Error).message }, `cannot make the clip of event ${e.id}: ${(err as Error).message}`);
      }
      return;
    }
    try {
      const current = this.deps.store.get(e.id);
      if (!current) throw new Error(`event ${e.id} no longer exists`);
      const updated = await this.deps.store.update(e.id, { clips: [...current.clips, clip] });
      p.parts = updated.clips.length;
      // The event may have changed since (it ended): keep the newest version.
      if (updated.seq > p.event.seq) p.event = updated;
    } catch (err) {
      // No row names it: it must not stay on disk, uncounted.
      await rm(path.join(this.deps.root, clip.path), { force: true });
      p.parts++;
      this.deps.observer?.clip?.('failed');
      this.deps.logger.warn({ camera: e.camera, event: e.id, err: (err as Error).message }, 'a clip was made but its event could not name it; removed');
      return;
    }
    this.deps.observer?.clip?.(clip.truncated ? 'truncated' : 'written', (performance.now() - started) / 1000);
    if (clip.truncated) this.deps.logger.info({ camera: e.camera, event: e.id, part }, `the clip of event ${e.id} ends where the camera's stream ended`);
  }
}

function clipName(e: StoredEvent, part: number): string {
  const d = new Date(e.start);
  const day = d.toISOString().slice(0, 10);
  const time = d.toISOString().slice(11, 23).replace(/[:.]/g, '');
  return `${e.camera}/${day}/${time}-${e.kind}-${e.id}-${part}`;
}
