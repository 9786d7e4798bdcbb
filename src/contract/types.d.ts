// The API's request and response shapes, declared once. A declaration file on purpose: the daemon's code and the
// page's (compiled separately, for the browser) both read it, and it has nothing to emit. Runtime lists that go
// with these types (EVENT_KINDS, PALETTE) live in search.ts and vocabulary/, checked against them.

export type EventKind = 'motion' | 'object' | 'plate';
export type PlaceKind = 'camera' | 'location' | 'zone';
export type ColourName = 'red' | 'orange' | 'yellow' | 'green' | 'cyan' | 'blue' | 'purple' | 'pink' | 'brown' | 'white' | 'grey' | 'black';
export type ColourPart = 'any' | 'upper' | 'lower';

export interface SearchFilter {
  /** Which kinds of event: motion only, plate readings only; empty means any. */
  kinds: EventKind[];
  labels: string[];
  colours: Array<{ colour: ColourName; part: ColourPart }>;
  places: Array<{ kind: PlaceKind; name: string; camera?: string }>;
  /**
   * ISO 8601 local times; `from` inclusive, `to` exclusive. `around` is the moment asked for when the query
   * named a clock time ("14:00"): results are ranked by closeness to it; otherwise newest first.
   */
  time: { from: string; to: string; around?: string } | null;
  /** Plate text with * for any run of characters and ? for one, separators removed, e.g. 贵F*123*. */
  plate: string | null;
  unknown: string[];
}

export interface SearchPageOptions {
  limit: number;
  cursor?: string | undefined;
  /** closest: nearest the middle of the asked time first (words: "14:00"); newest: latest first (listings). */
  order?: 'closest' | 'newest';
}

export interface SearchPage<T> {
  events: T[];
  /** Pass back to get the next page; absent on the last page. */
  next?: string;
}

export interface ColourReadingJson { colour: ColourName; confidence: number; alternative?: ColourName }
export interface PlateChar { char: string; confidence: number; alternatives: Array<{ char: string; confidence: number }> }
export interface SnapshotInfo { path: string; sha256: string; bytes?: number }

/**
 * An event's video: an MP4 copied from the camera's own stream (never re-encoded), hashed when it was written.
 * `url` serves it (Range requests work; refused with 409 if the file no longer matches `sha256`).
 */
export interface ClipJson {
  url: string;
  path: string;
  sha256: string;
  bytes: number;
  /** What the clip covers, ISO: from the keyframe it starts at to its last frame. */
  start: string;
  end: string;
  /** The camera's codec: h264 plays in every browser; hevc (H.265) does not in most, and is offered as a download. */
  codec: string;
  browser_playable: boolean;
  /** The camera's stream ended before the window asked for: the clip stops where the video stopped. */
  truncated: boolean;
  /** Which part of a long event (0 first). */
  part: number;
}

/** A run of recorded video on one camera that plays back to back (GET /api/recordings). */
export interface RecordingSpanJson {
  start: string;
  end: string;
  bytes: number;
  segments: number;
  /** Kept as continuous recording (record.continuous), not only in the ring for event clips. */
  continuous: boolean;
  /** The camera's stream ended at `end` (it dropped, or vigil stopped it). */
  stream_ended: boolean;
}

/** GET /api/recordings?camera=&from=&to=: what exists on a camera in a window. */
export interface RecordingsJson {
  camera: string;
  from: string;
  to: string;
  spans: RecordingSpanJson[];
  /** The longest range GET /api/recordings/export.mp4 exports at once, in seconds. */
  max_export_s: number;
}

/** An event as the API and the bus carry it. */
export interface EventJson {
  seq: number;
  id: number;
  kind: EventKind;
  camera: string;
  location: string;
  label: string | null;
  score: number | null;
  start: string;
  end: string | null;
  zones: string[];
  attributes: {
    colour?: ColourReadingJson;
    upper_colour?: ColourReadingJson;
    lower_colour?: ColourReadingJson;
    vehicle_colour?: ColourReadingJson;
    plate?: { text: string; confidence: number; chars?: PlateChar[]; colour?: string; reads?: number };
    /** Which track the event belongs to (its object event and plate readings share it). */
    track?: string;
    [name: string]: unknown;
  };
  box: number[] | null;
  path: Array<[number, number, number]> | null;
  frame_size: [number, number] | null;
  snapshots: { frame: SnapshotInfo | null; crop: SnapshotInfo | null };
  /** The event's clip (its first part), or null while it has none (still going on, being written, or not recorded). */
  clip?: ClipJson | null;
  /** Every part, in order: an event longer than the camera's max_clip_s is cut into consecutive clips. */
  clips?: ClipJson[];
  /** When this version of the event was written on the box (ISO): replication lag is measured from it. */
  updated?: string;
  /**
   * At a station hub: the box the event comes from, and its id there (`id` is then the hub's own). Not `box`:
   * that has been the object's bounding box since the first release, and bus consumers read it.
   */
  box_name?: string;
  box_id?: number;
}

/**
 * An event deleted on the box, as `/api/changes` carries it. `retention`: the box made room (its disk and window
 * are small); a hub keeps its copy under its own retention, and counts a gap when it never had the event.
 * `erased` (or no reason): the event must go everywhere, and a hub deletes its copy.
 */
export interface TombstoneJson {
  seq: number;
  /** The deleted event's id on the box. */
  id: number;
  deleted: true;
  deleted_at: string;
  reason?: 'retention' | 'erased';
}

export type ChangeJson = EventJson | TombstoneJson;

/** GET /api/changes?after=SEQ&limit=N: committed changes in sequence order. */
export interface ChangesJson {
  /** Names this box's event store; a different one after `after` means the store was replaced. */
  store_id: string;
  changes: ChangeJson[];
  /** The newest committed sequence number on the box. */
  last_seq: number;
  /**
   * Changes at or below this sequence number may no longer be served (deleted events' tombstones are kept
   * for a while, then pruned): a reader whose `after` is below it has a gap it cannot fill.
   */
  horizon_seq: number;
}

/** GET /api/box: what a hub needs to know of a box besides its events (scope replicate). */
export interface BoxStatusJson {
  version: string;
  store_id: string;
  last_seq: number;
  time_zone: string;
  live: boolean;
  labels: readonly string[];
  /** The places officers name at this box (cameras, locations, zones, with aliases), as its search parser knows them. */
  places: Array<{ kind: PlaceKind; name: string; camera?: string; terms: string[] }>;
  place_names: Record<string, { en?: string; zh?: string }>;
  cameras: CameraRowJson[];
}

/** An event as a search answers it: one card per sighting. */
export interface SearchHitJson extends EventJson {
  /** How many events this card stands for (a track's object event and its plate readings, repeats). */
  sightings: number;
  also?: number[];
  /** Conditions met only approximately, e.g. ['plate'] for a reading one character off. */
  near_match: string[];
}

export type RelaxationKind = 'other-label' | 'any-vehicle' | 'any-colour' | 'wider-time' | 'any-time' | 'any-place' | 'any-kind';
export interface SuggestionJson { change: RelaxationKind; filter: SearchFilter; count: number }

/** GET and POST /api/search. */
export interface SearchResultJson { query: string; filter: SearchFilter; events: SearchHitJson[]; next?: string; suggestions?: SuggestionJson[] }

/** GET /api/info. */
export interface BoxInfoJson {
  version: string;
  time_zone: string;
  live: boolean;
  labels: readonly string[];
  colours: readonly string[];
  cameras: Array<{ name: string; location: string; box?: string }>;
  /** At a station hub: its boxes (the page shows a box column and searches all of them). */
  boxes?: string[];
  /** Display names of places (locations and zones) per page language, where the config gives them. */
  place_names: Record<string, { en?: string; zh?: string }>;
}

export type CameraState = 'starting' | 'up' | 'down' | 'failed' | 'stopped';

/** One row of GET /api/cameras. */
export interface CameraRowJson {
  name: string;
  location: string;
  state: CameraState;
  fps: number;
  last_frame_age_s: number | null;
  restarts: number;
  last_error: { kind: string; message: string; at: string } | null;
  events_today: number;
  last_object_at: string | null;
  /** Set while the camera is up but has seen no person or vehicle for a long time: since when. */
  quiet_since: string | null;
  /** At a station hub: the box the camera is on, whether the hub reaches it, and how far its events lag. */
  box?: string;
  box_up?: boolean;
  box_lag_s?: number | null;
}

/** GET /api/cameras. */
export interface CamerasJson { now: string; time_zone: string; live: boolean; cameras: CameraRowJson[] }

/** GET, POST and DELETE /api/session. */
export interface SessionJson { signed_in: boolean; name: string | null; open: boolean; expires?: string }

/** GET /api/live/:camera/status. */
export interface LiveStatusJson { camera: string; state: 'idle' | 'connecting' | 'playing' | 'retrying'; viewers: number; restarts: number; error?: string }
