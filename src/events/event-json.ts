// The JSON shape of an event, the same on the bus and in the API.
import type { EventJson } from '../contract/types.js';
import type { StoredEvent } from './store.js';

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
    updated: new Date(e.updated).toISOString(),
    ...(e.boxName !== undefined ? { box_name: e.boxName, box_id: e.boxId } : {}),
  };
}
