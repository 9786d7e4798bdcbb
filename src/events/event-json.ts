// The JSON shape of an event, the same on the bus and in the API.
import type { ClipJson, EventJson } from '../contract/types.js';
import type { ClipRef, StoredEvent } from './store.js';

/** Codecs every browser's <video> plays from an MP4. */
export const BROWSER_CODECS: ReadonlySet<string> = new Set(['h264']);

export function clipJson(eventId: number, clip: ClipRef, part: number): ClipJson {
  return {
    url: `/api/events/${eventId}/clip.mp4${part > 0 ? `?part=${part}` : ''}`,
    path: clip.path,
    sha256: clip.sha256,
    bytes: clip.bytes,
    start: new Date(clip.start).toISOString(),
    end: new Date(clip.end).toISOString(),
    codec: clip.codec,
    browser_playable: BROWSER_CODECS.has(clip.codec),
    truncated: clip.truncated,
    part,
  };
}

export function eventJson(e: StoredEvent): EventJson {
  return {
    seq: e.seq,
    id: e.id,
    kind: e.kind,
    camera: e.camera,
    location: e.location,
    label: e.label,
    score: e.score === null ? null : Math.round(e.score * 1000) / 1000,
    start: new Date(e.start).toISOString(),
    end: e.end === null ? null : new Date(e.end).toISOString(),
    zones: e.zones,
    attributes: e.attributes as EventJson['attributes'],
    box: e.box,
    path: e.path,
    frame_size: e.frameSize,
    snapshots: {
      frame: e.frame ? { path: e.frame.path, sha256: e.frame.sha256, bytes: e.frame.bytes } : null,
      crop: e.crop ? { path: e.crop.path, sha256: e.crop.sha256, bytes: e.crop.bytes } : null,
    },
    clip: e.clips[0] ? clipJson(e.id, e.clips[0], 0) : null,
    clips: e.clips.map((c, i) => clipJson(e.id, c, i)),
    updated: new Date(e.updated).toISOString(),
    ...(e.boxName !== undefined ? { box_name: e.boxName, box_id: e.boxId } : {}),
  };
}
