// A track's colours from several sightings rather than one: a car turning under a street lamp, a jacket
// half in shade or a rider's arm across the tank make single readings wrong, and not in the same way twice.
// Each reading votes with its confidence (its runner-up with half of it); the colour that wins is what the
// event says, with the runner-up when it came close.
import type { ColourName } from '../vocabulary/colours.js';
import type { ColourReading } from './colour.js';

const COLOUR_ATTRIBUTES = ['colour', 'upper_colour', 'lower_colour'] as const;

export class ColourVote {
  private readonly readings: Array<Record<string, unknown>> = [];

  get count(): number {
    return this.readings.length;
  }

  add(attributes: Record<string, unknown>): void {
    this.readings.push(attributes);
  }

  /** `attributes` with each of its colour attributes replaced by the vote over every reading added (itself
   * included); a colour it does not have (a track that was a person before it was seen riding) stays out. */
  result(attributes: Record<string, unknown>): Record<string, unknown> {
    const out = { ...attributes };
    for (const name of COLOUR_ATTRIBUTES) {
      if (!(name in attributes)) continue;
      const votes = new Map<ColourName, number>();
      let total = 0;
      for (const r of this.readings) {
        const reading = r[name] as ColourReading | undefined;
        if (!reading) continue;
        const weight = Math.max(reading.confidence, 0.05);
        votes.set(reading.colour, (votes.get(reading.colour) ?? 0) + weight);
        total += weight;
        if (reading.alternative) {
          votes.set(reading.alternative, (votes.get(reading.alternative) ?? 0) + weight / 2);
          total += weight / 2;
        }
      }
      if (total === 0) continue;
      const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
      const [winner, score] = ranked[0]!;
      const vote: ColourReading = { colour: winner, confidence: Math.round((score / total) * 100) / 100 };
      const second = ranked[1];
      if (second && second[1] >= 0.5 * score) vote.alternative = second[0];
      out[name] = vote;
    }
    return out;
  }
}
