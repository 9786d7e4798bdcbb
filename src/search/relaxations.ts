// When a search finds nothing, what is close: the same filter with one thing loosened (another vehicle
// type, any colour, a wider time, any place), each with how many events it would find. "No white motorbike"
// then says "1 white bicycle". A white truck is never one for "white car": the search itself finds it, as a near
// match (LABEL_NEIGHBOURS).
import { labelsWithNeighbours, VEHICLES } from '../vocabulary/labels.js';
import type { SearchFilter } from './query-parser.js';

export type { RelaxationKind } from '../contract/types.js';
import type { RelaxationKind } from '../contract/types.js';

export interface Relaxation {
  change: RelaxationKind;
  filter: SearchFilter;
}

/** "14:00" widened: two hours either side. */
const WIDER_MS = 2 * 3600_000;

/** The loosened filters worth counting, the likeliest meaning of the witness's words first. */
export function relaxations(filter: SearchFilter): Relaxation[] {
  const out: Relaxation[] = [];
  const vehiclesOnly = filter.labels.length > 0 && filter.labels.every((l) => VEHICLES.includes(l));
  if (vehiclesOnly) {
    // A label the search already finds as a near match (car's truck) is no suggestion; nor is a second label
    // that finds the same events as one already offered (truck after car, each finding both).
    const found = labelsWithNeighbours(filter.labels);
    for (const other of VEHICLES.filter((v) => !found.includes(v))) {
      if (out.some((r) => labelsWithNeighbours(r.filter.labels).includes(other))) continue;
      out.push({ change: 'other-label', filter: { ...filter, labels: [other] } });
    }
    if (filter.labels.length < VEHICLES.length) out.push({ change: 'any-vehicle', filter: { ...filter, labels: [...VEHICLES] } });
  }
  if (filter.colours.length) out.push({ change: 'any-colour', filter: { ...filter, colours: [] } });
  if (filter.time?.around) {
    const around = Date.parse(filter.time.around);
    const iso = (ms: number) => new Date(ms).toISOString();
    out.push({ change: 'wider-time', filter: { ...filter, time: { from: iso(around - WIDER_MS), to: iso(around + WIDER_MS), around: filter.time.around } } });
  }
  if (filter.time) out.push({ change: 'any-time', filter: { ...filter, time: null } });
  if (filter.places.length) out.push({ change: 'any-place', filter: { ...filter, places: [] } });
  if (filter.kinds.length) out.push({ change: 'any-kind', filter: { ...filter, kinds: [] } });
  return out;
}
