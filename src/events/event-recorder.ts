// Records what the pipeline saw and the attribute stage described as stored events with snapshots: a motion burst or a confirmed track is
// inserted as soon as it starts (searchable within a second) and updated when it ends. Snapshots are
// written before the row that names them, and replaced files are removed only after the new row commits,
// so a row never points at a missing or different file.
import type { Logger } from 'pino';
import type { Described } from '../attributes/attribute-stage.js';
import type { Picture } from '../attributes/picture.js';
import type { MotionEventEnd } from '../motion/motion-activity.js';
import type { VotedPlate } from '../plates/plate-vote.js';
import type { Track } from '../track/tracker.js';
import type { SnapshotWriter } from './snapshots.js';
import type { EventStore, SnapshotRef, StoredEvent } from './store.js';

export interface RecorderObserver {
  recorded?(event: StoredEvent, captureToCommitS: number): void;
}

interface OpenEvent {
  id: Promise<number | undefined>;
  version: number;
  snapshots: Array<SnapshotRef | null>;
}

export interface CameraInfo {
  name: string;
  location: string;
}

export class EventRecorder {
  private readonly objects = new Map<Track, OpenEvent>();
  private motion: OpenEvent | undefined;
  private pendingWrites = new Set<Promise<unknown>>();

  private readonly run = Date.now().toString(36);

  constructor(
    private readonly camera: CameraInfo,
    private readonly store: EventStore,
    private readonly snapshots: SnapshotWriter,
    private readonly logger: Logger,
    private readonly observer: RecorderObserver = {},
  ) {}

  motionStarted(start: number, picture: Picture): void {
    const open: OpenEvent = { id: Promise.resolve(undefined), version: 1, snapshots: [] };
    open.id = this.track(async () => {
      const pair = await this.snapshots.write(this.name('motion', start, 1), picture.rgb, null, 'motion');
      open.snapshots = [pair.frame];
      const event = await this.store.insert({
        kind: 'motion',
        camera: this.camera.name,
        location: this.camera.location,
        start,
        frame: pair.frame,
        frameSize: [picture.width, picture.height],
      });
      this.observer.recorded?.(event, (Date.now() - start) / 1000);
      return event.id;
    });
    this.motion = open;
  }

  motionEnded(end: MotionEventEnd): void {
    const open = this.motion;
    this.motion = undefined;
    if (!open) return;
    this.track(async () => {
      const id = await open.id;
      if (id === undefined) return;
      const box = [end.area.x, end.area.y, end.area.x + end.area.width, end.area.y + end.area.height];
      await this.store.update(id, { end: end.end, box, attributes: { peak_changed: Math.round(end.peak * 1000) / 1000 } });
    });
  }

  /** A confirmed track: its event, with the sighting and attributes the attribute stage described. */
  objectStarted(track: Track, sighting: Described): void {
    const open: OpenEvent = { id: Promise.resolve(undefined), version: 1, snapshots: [] };
    open.id = this.track(async () => {
      const pair = await this.snapshots.write(this.name(`object-${track.id}`, track.firstSeen, 1), sighting.picture.rgb, sighting.box, caption(track));
      open.snapshots = [pair.frame, pair.crop];
      const event = await this.store.insert({
        kind: 'object',
        camera: this.camera.name,
        location: this.camera.location,
        label: track.label,
        score: track.maxScore,
        start: track.firstSeen,
        box: track.box,
        path: track.path,
        zones: [...track.zones],
        attributes: { ...sighting.attributes, track: this.trackKey(track) },
        frame: pair.frame,
        crop: pair.crop,
        frameSize: [sighting.picture.width, sighting.picture.height],
      });
      this.observer.recorded?.(event, (Date.now() - sighting.at) / 1000);
      return event.id;
    });
    this.objects.set(track, open);
  }

  /** The track ended; `best` is its best sighting when that is not the one recorded at its start. */
  objectEnded(track: Track, best: Described | undefined): void {
    const open = this.objects.get(track);
    this.objects.delete(track);
    if (!open) return;
    this.track(async () => {
      const id = await open.id;
      if (id === undefined) return;
      let pair: { frame: SnapshotRef; crop: SnapshotRef | null } | undefined;
      let attributes: Record<string, unknown> | undefined;
      if (best) {
        open.version++;
        pair = await this.snapshots.write(this.name(`object-${track.id}`, track.firstSeen, open.version), best.picture.rgb, best.box, caption(track));
        // The snapshot is the best sighting; its colours are voted over the track's sightings (attribute-stage.ts).
        attributes = { ...best.attributes, track: this.trackKey(track) };
      }
      try {
        await this.store.update(id, {
          label: track.label,
          score: track.maxScore,
          end: track.lastSeen,
          box: track.best?.box ?? track.box,
          path: track.path,
          zones: [...track.zones],
          ...(pair ? { frame: pair.frame, crop: pair.crop } : {}),
          ...(attributes ? { attributes } : {}),
        });
      } catch (err) {
        // No row names the new snapshots (e.g. retention deleted the event meanwhile): remove them, or they
        // stay on disk for ever, uncounted by the store's size.
        if (pair) await this.snapshots.remove([pair.frame, pair.crop]);
        throw err;
      }
      if (pair) await this.snapshots.remove(open.snapshots);
    });
  }

  /** A vehicle's voted plate: one plate event with the plate's crop and the vehicle's label and colour. */
  /** A plate voted on a vehicle's track; `vehicle` is the vehicle as it looked in the picture read. */
  plateRead(track: Track, plate: VotedPlate, vehicle: Described): void {
    const capturedAt = vehicle.at;
    this.track(async () => {
      const pair = await this.snapshots.write(this.name(`plate-${track.id}`, capturedAt, 1), vehicle.picture.rgb, plate.best.box, plate.text);
      const vehicleColour = vehicle.attributes.colour;
      const event = await this.store.insert({
        kind: 'plate',
        camera: this.camera.name,
        location: this.camera.location,
        label: track.label,
        score: plate.confidence,
        start: capturedAt,
        end: capturedAt,
        box: plate.best.box,
        zones: [...track.zones],
        attributes: {
          plate: { text: plate.text, confidence: plate.confidence, chars: plate.chars, colour: plate.best.colour, reads: plate.reads },
          track: this.trackKey(track),
          ...(vehicleColour ? { vehicle_colour: vehicleColour } : {}),
        },
        frame: pair.frame,
        crop: pair.crop,
        frameSize: [vehicle.picture.width, vehicle.picture.height],
      });
      this.observer.recorded?.(event, (Date.now() - capturedAt) / 1000);
    });
  }

  /** Waits for every snapshot and store write this recorder started. */
  async settle(): Promise<void> {
    while (this.pendingWrites.size) await Promise.allSettled([...this.pendingWrites]);
  }

  private track<T>(work: () => Promise<T>): Promise<T | undefined> {
    const p = work().catch((err: unknown) => {
      this.logger.error({ err, camera: this.camera.name }, `recording an event failed: ${(err as Error).message}`);
      return undefined;
    });
    this.pendingWrites.add(p);
    void p.finally(() => this.pendingWrites.delete(p));
    return p;
  }

  /**
   * Which sighting an event belongs to: the object event of a track and the plate events read on it share
   * it, so search can show them as one. Track numbers restart with the daemon; the run makes them unique.
   */
  private trackKey(track: Track): string {
    return `${this.run}-${track.id}`;
  }

  private name(what: string, at: number, version: number): string {
    const d = new Date(at);
    const day = d.toISOString().slice(0, 10);
    const time = d.toISOString().slice(11, 23).replace(/[:.]/g, '');
    return `${this.camera.name}/${day}/${time}-${what}-v${version}`;
  }
}

function caption(track: Track): string {
  return `${track.label} ${Math.round(track.maxScore * 100)}%`;
}
