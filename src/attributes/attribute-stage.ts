// The stage between tracking and recording: what a tracked object looks like. Each enricher (colour today;
// plates are asynchronous and voted, see plate-reading.ts) describes an object from a picture, and the stage
// keeps each track's best sighting until the track ends, so the recorder gets pixels and attributes and only
// records them.
import type { Box } from '../image/geometry.js';
import type { RiddenParts, Track } from '../track/tracker.js';
import { isTwoWheeler } from '../vocabulary/labels.js';
import { objectColours } from './colour.js';
import type { Picture } from './picture.js';

/** Describes an object in a picture: attributes to store with its event (e.g. { colour } or { upper_colour, lower_colour }). */
export interface Enricher {
  describe(picture: Picture, box: Box, label: string, parts?: RiddenParts): Record<string, unknown>;
}

export const colourEnricher: Enricher = {
  describe: (picture, box, label, parts) => objectColours(picture.rgb, box, label, parts),
};

/** How many people ride a two-wheeler (1 or 2), when the detector saw them on it. */
export const riderEnricher: Enricher = {
  describe: (_picture, _box, _label, parts) => (parts?.riders.length ? { riders: parts.riders.length } : {}),
};

/** A sighting with what the enrichers made of it. */
export interface Described {
  picture: Picture;
  box: Box;
  /** When the picture was captured (ms). */
  at: number;
  attributes: Record<string, unknown>;
}

export class AttributeStage {
  /** Each confirmed track's best sighting; `written` once the recorder has it. */
  private readonly best = new Map<Track, { picture: Picture; at: number; written: boolean }>();

  constructor(private readonly enrichers: readonly Enricher[] = [colourEnricher, riderEnricher]) {}

  /** A track was confirmed: it is described from the picture it was confirmed in. */
  started(track: Track, picture: Picture, at: number): Described {
    this.best.set(track, { picture, at, written: true });
    return this.describe(picture, track.box, track.label, at, track.parts);
  }

  /** A better sighting than any before (the tracker decides): kept, described only if it is still the best at the end. */
  improved(track: Track, picture: Picture, at: number): void {
    this.best.set(track, { picture, at, written: false });
  }

  /** The track ended: its best sighting, described, unless the recorder already has it. */
  ended(track: Track): Described | undefined {
    const best = this.best.get(track);
    this.best.delete(track);
    if (!best || best.written || !track.best) return undefined;
    return this.describe(best.picture, track.best.box, track.label, best.at, track.best.parts);
  }

  /** The vehicle as it looked when its plate was read (the plate event's vehicle colour). */
  vehicle(track: Track, picture: Picture, at: number): Described {
    return this.describe(picture, track.box, track.label, at, track.parts);
  }

  private describe(picture: Picture, box: Box, label: string, at: number, parts?: RiddenParts): Described {
    // A two-wheeler's parts only belong with its own label (a track that was a person a moment ago has none).
    const ridden = isTwoWheeler(label) ? parts : undefined;
    return { picture, box, at, attributes: Object.assign({}, ...this.enrichers.map((e) => e.describe(picture, box, label, ridden))) };
  }
}
