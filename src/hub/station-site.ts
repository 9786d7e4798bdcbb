// What the hub's search and page know of the station: every box's places (cameras, locations, zones, their
// aliases), display names and labels, merged from the boxes' /api/box answers. A location two boxes share (the
// market watched from both ends) is one place with both boxes' aliases.
import type { BoxStatusJson } from '../contract/types.js';
import type { Place } from '../search/query-parser.js';

export interface StationSite {
  places: Place[];
  placeNames: Record<string, { en?: string; zh?: string }>;
  labels: string[];
  /** Camera names more than one box reports: search cannot tell them apart (the log says so). */
  clashes: string[];
}

export function stationSite(boxes: ReadonlyArray<{ name: string; status: BoxStatusJson | null }>): StationSite {
  const byKey = new Map<string, Place>();
  const cameraBox = new Map<string, string>();
  const clashes = new Set<string>();
  const placeNames: Record<string, { en?: string; zh?: string }> = {};
  const labels = new Set<string>();
  for (const { name: box, status } of boxes) {
    if (!status) continue;
    for (const place of status.places) {
      if (place.kind === 'camera') {
        const owner = cameraBox.get(place.name);
        if (owner !== undefined && owner !== box) clashes.add(place.name);
        cameraBox.set(place.name, box);
      }
      const key = `${place.kind}\u0000${place.name}\u0000${place.camera ?? ''}`;
      const known = byKey.get(key);
      if (known) known.terms = [...new Set([...known.terms, ...place.terms])];
      else byKey.set(key, { kind: place.kind, name: place.name, ...(place.camera !== undefined ? { camera: place.camera } : {}), terms: [...place.terms] });
    }
    for (const [place, names] of Object.entries(status.place_names)) placeNames[place] = { ...placeNames[place], ...names };
    for (const label of status.labels) labels.add(label);
  }
  return { places: [...byKey.values()], placeNames, labels: [...labels], clashes: [...clashes] };
}
