// Plate-aware CTC decoding of the PP-OCR recogniser's output: only characters a plate can hold are
// considered, the first must be a province and the second a letter, the separator dot is dropped (and
// given back to the letter it swallowed), and each character keeps its confidence and runners-up.
import { BODY, CITY_LETTERS, CONFUSABLE, PROVINCES, SUFFIXES, type PlateChar } from './plate-rules.js';

export type { PlateChar };

export interface DecodedPlate {
  text: string;
  /** Mean character confidence (0..1). */
  score: number;
  chars: PlateChar[];
}

const SEPARATORS = '·•.';

export class PlateDecoder {
  private readonly allowed: number[];
  private readonly province: number[];
  private readonly letter: number[];
  private readonly body: number[];
  private readonly separators: Set<number>;

  /** `classes[0]` is CTC's blank; the rest are the recogniser's characters in output order. */
  constructor(private readonly classes: readonly string[]) {
    const indexOf = (chars: string) => [...chars].map((c) => classes.indexOf(c)).filter((i) => i > 0);
    this.province = indexOf(PROVINCES);
    this.letter = indexOf(CITY_LETTERS);
    this.body = indexOf(BODY + SUFFIXES);
    this.separators = new Set(indexOf(SEPARATORS));
    this.allowed = [0, ...new Set([...this.province, ...this.body, ...this.separators])];
  }

  /**
   * probs: [steps × classes] softmax output of one image. `layout` says which part of a plate the image
   * holds: a whole single-row plate, or the top (province + letter) or bottom row of a two-row plate.
   */
  decode(probs: Float32Array, steps: number, layout: 'single' | 'top' | 'bottom' = 'single'): DecodedPlate {
    const C = this.classes.length;
    // 1. Per step, the best allowed class; runs of the same non-blank class are one character.
    const segments: Array<{ cls: number; peak: number; p: number }> = [];
    let previous = 0;
    for (let t = 0; t < steps; t++) {
      const row = t * C;
      let best = 0;
      for (const k of this.allowed) if (probs[row + k]! > probs[row + best]!) best = k;
      if (best !== 0 && best === previous) {
        const seg = segments[segments.length - 1]!;
        if (probs[row + best]! > seg.p) {
          seg.p = probs[row + best]!;
          seg.peak = t;
        }
      } else if (best !== 0) {
        segments.push({ cls: best, peak: t, p: probs[row + best]! });
      }
      previous = best;
    }
    // 2. The separator: dropped, unless the plate is a character short, when it hid that character.
    const nonSeparator = segments.filter((s) => !this.separators.has(s.cls)).length;
    const kept = segments.filter((s, i) => {
      if (!this.separators.has(s.cls)) return true;
      if (layout === 'single' && nonSeparator === 6 && i >= 2) {
        s.cls = this.bestOf(probs, s.peak * C, this.body).k;
        return true;
      }
      return false;
    });
    // 3. Position rules, with confidences and runners-up at each character's peak step.
    const rows = layout === 'top' ? kept.slice(0, 2) : kept;
    const chars = rows.map((s, i) => {
      const set = layout === 'bottom' ? this.body : i === 0 ? this.province : i === 1 ? this.letter : this.body;
      return this.character(probs, s.peak * C, set);
    });
    const text = chars.map((c) => c.char).join('');
    const score = chars.length ? chars.reduce((a, c) => a + c.confidence, 0) / chars.length : 0;
    return { text, score, chars };
  }

  private bestOf(probs: Float32Array, row: number, set: number[]): { k: number; p: number } {
    let k = set[0]!;
    for (const c of set) if (probs[row + c]! > probs[row + k]!) k = c;
    return { k, p: probs[row + k]! };
  }

  private character(probs: Float32Array, row: number, set: number[]): PlateChar {
    const ranked = set.map((k) => ({ k, p: probs[row + k]! })).sort((a, b) => b.p - a.p);
    const top = ranked[0]!;
    const char = this.classes[top.k]!;
    const alternatives = ranked.slice(1, 3).filter((a) => a.p >= 0.01).map((a) => ({ char: this.classes[a.k]!, confidence: round(a.p) }));
    // Characters plates are known to confuse (5/S, 0/O/D/Q, ...) are always offered, however unlikely the
    // model thinks them, so a search for the true plate still finds this reading.
    for (const other of CONFUSABLE[char] ?? '') {
      const k = this.classes.indexOf(other);
      if (k > 0 && set.includes(k) && !alternatives.some((a) => a.char === other)) alternatives.push({ char: other, confidence: round(probs[row + k]!) });
    }
    return { char, confidence: round(top.p), alternatives };
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
