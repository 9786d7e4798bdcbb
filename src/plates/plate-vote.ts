// Reads of one vehicle's plate across frames, combined per character weighted by confidence: one blurred
// frame does not make a wrong plate, and a plate is reported once, when the reading is stable.
import type { PlateReading } from './plate-reader.js';
import type { PlateChar } from './plate-decoder.js';

export interface VotedPlate {
  text: string;
  /** Mean over characters of the winning share of the weighted votes (0..1). */
  confidence: number;
  chars: PlateChar[];
  reads: number;
  /** The single read that agrees best with the vote (for its box, colour and snapshot). */
  best: PlateReading;
}

export class PlateVote {
  private readonly reads: PlateReading[] = [];

  constructor(private readonly minReads = 2) {}

  add(reading: PlateReading): void {
    if (reading.valid) this.reads.push(reading);
  }

  /** The voted plate once at least `minReads` reads agree on its length and the vote is clear. */
  result(): VotedPlate | undefined {
    if (this.reads.length < this.minReads) return undefined;
    // Reads of the most common length only: a 7- and an 8-character read do not align.
    const byLength = new Map<number, PlateReading[]>();
    for (const r of this.reads) byLength.set(r.chars.length, [...(byLength.get(r.chars.length) ?? []), r]);
    const group = [...byLength.values()].sort((a, b) => b.length - a.length)[0]!;
    if (group.length < this.minReads) return undefined;
    const chars: PlateChar[] = [];
    for (let i = 0; i < group[0]!.chars.length; i++) {
      const tally = new Map<string, number>();
      let total = 0;
      for (const r of group) {
        const c = r.chars[i]!;
        tally.set(c.char, (tally.get(c.char) ?? 0) + c.confidence);
        total += c.confidence;
        for (const a of c.alternatives) {
          tally.set(a.char, (tally.get(a.char) ?? 0) + a.confidence);
          total += a.confidence;
        }
      }
      const ranked = [...tally.entries()].sort((a, b) => b[1] - a[1]);
      chars.push({
        char: ranked[0]![0],
        confidence: Math.round((ranked[0]![1] / total) * 1000) / 1000,
        alternatives: ranked.slice(1, 3).map(([char, w]) => ({ char, confidence: Math.round((w / total) * 1000) / 1000 })),
      });
    }
    const text = chars.map((c) => c.char).join('');
    const best = [...group].sort((a, b) => agreement(b, text) - agreement(a, text) || b.score - a.score)[0]!;
    const confidence = Math.round((chars.reduce((s, c) => s + c.confidence, 0) / chars.length) * 1000) / 1000;
    return { text, confidence, chars, reads: group.length, best };
  }
}

function agreement(r: PlateReading, text: string): number {
  return [...r.text].filter((c, i) => [...text][i] === c).length;
}
