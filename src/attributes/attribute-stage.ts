// The stage between tracking and recording: what a tracked object looks like. Each enricher (colour today;
// plates are asynchronous and voted, see plate-reading.ts) describes an object from a picture, and the stage
// keeps each track's best sighting until the track ends, so the recorder gets pixels and attributes and only
// records them.
import type { Box } from '../image/geometry.js';
import type { RiddenParts, Track } from '../track/tracker.js';
import { isTwoWheeler } from '../vocabulary/labels.js';
import { objectColours } from './colour.js';
import { ColourVote } from './colour-vote.js';
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

/** Colour readings a track collects at most, and how far apart in time (the best sighting's always counts). */
const MAX_READINGS = 5;
const READING_GAP_MS = 400;

interface TrackState {
  picture: Picture;
  at: number;
  /** Whether the recorder has this sighting (the confirming one). */
  written: boolean;
  /** The label the recorded attributes were read for. */
  label: string;
  votes: ColourVote;
  lastReadAt: number;
}

export class AttributeStage {
  /** Each confirmed track's best sighting and its colour readings. */
  private readonly tracks = new Map<Track, TrackState>();

  constructor(private readonly enrichers: readonly Enricher[] = [colourEnricher, riderEnricher]) {}

  /** A track was confirmed: it is described from the picture it was confirmed in. */
  started(track: Track, picture: Picture, at: number): Described {
    const described = this.describe(picture, track.box, track.label, at, track.parts);
    const votes = new ColourVote();
    votes.add(described.attributes);
    this.tracks.set(track, { picture, at, written: true, label: track.label, votes, lastReadAt: at });
    return described;
  }

  /**
   * A better sighting than any before (the tracker decides): kept for the snapshot, described only if it is
   * still the best at the end; its colours are read now when the track has few readings yet.
   */
  improved(track: Track, picture: Picture, at: number): void {
    const state = this.tracks.get(track);
    if (!state) return;
    state.picture = picture;
    state.at = at;
    state.written = false;
    if (state.votes.count < MAX_READINGS - 1 && at - state.lastReadAt >= READING_GAP_MS) {
      state.votes.add(this.describe(picture, track.box, track.label, at, track.parts).attributes);
      state.lastReadAt = at;
    }
  }

  /**
   * The track ended: its best sighting, described, its colours voted over the track's readings; nothing when
   * the recorder already has that sighting (no later one was better, so no other reading was taken), unless
   * the track's label changed since (a person seen riding is a bike now: its colours are the bike's).
   */
  ended(track: Track): Described | undefined {
    const state = this.tracks.get(track);
    this.tracks.delete(track);
    if (!state || !track.best || (state.written && state.label === track.label)) return undefined;
    const best = this.describe(state.picture, track.best.box, track.label, state.at, track.best.parts);
    state.votes.add(best.attributes);
    return { ...best, attributes: state.votes.result(best.attributes) };
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
