// Plates as an attribute of tracked vehicles: vehicles seen in a frame, big enough and not read lately, get a
// read by the plate worker; readings are voted per track, and a plate agreed on by enough reads is handed on
// once, with the picture it was read in.
//
// A vehicle whose reads find no plate is read less and less often (interval_s doubled after each empty read, up
// to BACKOFF_MAX times), and at the full rate again once its box has grown by GROWN (it came closer: more pixels
// on its plate). Without this the plate worker spent its whole time re-reading parked and distant cars whose
// plates it could not see, at ~270 MB a second of onnxruntime scratch memory (soak, 2026-12-02).
import type { PlatesConfig } from '../config/schema.js';
import type { PlateService } from '../plates/plate-service.js';
import { PlateVote, type VotedPlate } from '../plates/plate-vote.js';
import type { Track } from '../track/tracker.js';
import { PLATED_VEHICLES } from '../vocabulary/labels.js';
import type { Picture } from './picture.js';

export interface PlateStage {
  service: PlateService;
  config: PlatesConfig;
}

/** The longest wait between reads of a vehicle whose plate is not found, in multiples of interval_s. */
export const BACKOFF_MAX = 8;
/** A vehicle this much wider than at its last read is read again at the full rate. */
export const GROWN = 1.25;

interface TrackPlates {
  vote: PlateVote;
  lastRead: number;
  /** Milliseconds until the next read: interval_s, doubled after each read that found no plate. */
  wait: number;
  /** Box width at the last read. */
  widthAtRead: number;
  done: boolean;
}

export class PlateReading {
  private readonly state = new Map<Track, TrackPlates>();
  private closed = false;

  constructor(
    private readonly plates: PlateStage,
    private readonly voted: (track: Track, plate: VotedPlate, picture: Picture, at: number) => void,
    private readonly failed: (err: Error) => void,
  ) {}

  /** The tracks the detector just saw in `picture`. */
  look(tracks: readonly Track[], picture: Picture, at: number): void {
    const { config, service } = this.plates;
    for (const track of tracks) {
      if (track.state !== 'confirmed' || track.lastSeen !== at || !PLATED_VEHICLES.includes(track.label)) continue;
      const [x1, y1, x2, y2] = track.box;
      if (x2 - x1 < config.min_vehicle_width) continue;
      const base = config.interval_s * 1000;
      let state = this.state.get(track);
      if (!state) this.state.set(track, (state = { vote: new PlateVote(config.min_reads), lastRead: -Infinity, wait: base, widthAtRead: 0, done: false }));
      if (state.done) continue;
      if (x2 - x1 >= state.widthAtRead * GROWN) state.wait = base;
      if (at - state.lastRead < state.wait) continue;
      const pending = service.read(picture.frame, { x: x1, y: y1, width: x2 - x1, height: y2 - y1 });
      if (!pending) return; // the plate worker is busy: try again on a later frame
      state.lastRead = at;
      state.widthAtRead = x2 - x1;
      const s = state;
      pending.then(
        (readings) => {
          if (this.closed) return;
          s.wait = readings[0] ? base : Math.min(s.wait * 2, base * BACKOFF_MAX);
          if (readings[0]) s.vote.add(readings[0]);
          const voted = s.done ? undefined : s.vote.result();
          if (!voted) return;
          s.done = true;
          this.voted(track, voted, picture, at);
        },
        (err: unknown) => this.failed(err as Error),
      );
    }
  }

  forget(track: Track): void {
    this.state.delete(track);
  }

  close(): void {
    this.closed = true;
  }
}
