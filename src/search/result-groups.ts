// What an officer sees of a page of matches: one card per thing seen, the likeliest first within the time
// order asked for. The store answers in time order (its indexes walk that way, so a page costs the same
// whatever the store holds); this re-ranks within the page, never across pages, and folds repeats:
//  - the object event of a track and the plate events read on it (the same car) are one sighting;
//  - the same plate read again on the same camera within a few minutes (it stopped, came back) is one too.
// A group is shown as its best event: the object event if there is one, else the highest score.
import type { StoredEvent } from '../events/store.js';

export interface ResultGroup {
  event: StoredEvent;
  /** The other events folded into this one, in the order the store gave them. */
  also: StoredEvent[];
}

/** Plate readings of the same plate this close together on one camera are one sighting. */
const SAME_PLATE_MS = 10 * 60_000;
/** "14:00" ranks by closeness in steps this wide, the likeliest first within each step. */
const CLOSENESS_STEP_MS = 10 * 60_000;
/** Without a time asked for, newest first in steps this wide, the likeliest first within each. */
const RECENCY_STEP_MS = 60 * 60_000;

export function groupResults(events: readonly StoredEvent[], around: number | undefined): ResultGroup[] {
  const groups: Array<{ members: StoredEvent[]; firstIndex: number }> = [];
  const byTrack = new Map<string, (typeof groups)[number]>();
  const lastPlate = new Map<string, { group: (typeof groups)[number]; at: number }>();
  events.forEach((event, index) => {
    const track = typeof event.attributes.track === 'string' ? `${event.camera}|${event.attributes.track}` : undefined;
    const plate = plateText(event);
    let group = track ? byTrack.get(track) : undefined;
    if (!group && plate) {
      const seen = lastPlate.get(`${event.camera}|${plate}`);
      if (seen && Math.abs(seen.at - event.start) <= SAME_PLATE_MS) group = seen.group;
    }
    if (!group) {
      group = { members: [], firstIndex: index };
      groups.push(group);
    }
    group.members.push(event);
    if (track) byTrack.set(track, group);
    if (plate) lastPlate.set(`${event.camera}|${plate}`, { group, at: event.start });
  });
  const ranked = groups.map((g) => {
    const best = g.members.find((m) => m.kind === 'object') ?? [...g.members].sort((a, b) => (b.score ?? 0) - (a.score ?? 0))[0]!;
    const score = Math.max(...g.members.map((m) => m.score ?? 0));
    const step = around === undefined ? -Math.floor(best.start / RECENCY_STEP_MS) : Math.floor(Math.abs(best.start - around) / CLOSENESS_STEP_MS);
    return { group: { event: best, also: g.members.filter((m) => m !== best) }, step, score, firstIndex: g.firstIndex };
  });
  ranked.sort((a, b) => a.step - b.step || b.score - a.score || a.firstIndex - b.firstIndex);
  return ranked.map((r) => r.group);
}

function plateText(event: StoredEvent): string | undefined {
  const plate = event.attributes.plate as { text?: unknown } | undefined;
  return typeof plate?.text === 'string' ? plate.text : undefined;
}
