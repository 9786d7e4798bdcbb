// Two-row plates (yellow truck and van rear plates): where a tall text box is split into its rows, and how the
// rows' readings are joined. The real photos (plates-dev's two-row plates) are read in test/integration/plates.test.ts.
import { describe, expect, it } from 'vitest';
import { joinRows, twoRowWindows } from '../../src/plates/plate-reader.js';
import type { DecodedPlate } from '../../src/plates/plate-decoder.js';
import { isPlate } from '../../src/plates/plate-rules.js';

function decoded(text: string, confidence = 0.9): DecodedPlate {
  const chars = [...text].map((char) => ({ char, confidence, alternatives: [] }));
  return { text, chars, score: confidence };
}

describe('twoRowWindows', () => {
  // A 160×90 box, like dev_156's two-row plate (161×92).
  const box = [100, 100, 260, 190] as const;

  it('reads the lower row across the full width below a split at 35% or 45% of the height', () => {
    const { bottom } = twoRowWindows([...box], 1000, 1000);
    expect(bottom).toEqual([
      [100, 100 + 0.35 * 90, 260, 190],
      [100, 100 + 0.45 * 90, 260, 190],
    ]);
  });

  it('looks for the upper row centred, from a quarter of the height above the box to under half way into it', () => {
    const { top } = twoRowWindows([...box], 1000, 1000);
    expect(top.length).toBeGreaterThanOrEqual(8);
    for (const [x1, y1, x2, y2] of top) {
      expect(x1).toBeCloseTo(124);
      expect(x2).toBeCloseTo(236);
      expect(y1).toBeGreaterThanOrEqual(100 - 0.25 * 90);
      expect(y2).toBeLessThanOrEqual(100 + 0.45 * 90);
      expect(y2 - y1).toBeGreaterThan(0.15 * 90);
    }
    // One window is the box's own upper third, where a whole plate's upper row stands.
    expect(top).toContainEqual([124, 100, 236, 100 + 0.35 * 90]);
  });

  it('stays inside the image', () => {
    const { top, bottom } = twoRowWindows([0, 5, 160, 95], 150, 90);
    for (const b of [...top, ...bottom]) {
      expect(Math.min(...b)).toBeGreaterThanOrEqual(0);
      expect(b[2]).toBeLessThanOrEqual(150);
      expect(b[3]).toBeLessThanOrEqual(90);
    }
  });
});

describe('joinRows', () => {
  it('joins a province and letter over five characters into one plate', () => {
    const joined = joinRows(decoded('粤A', 0.6), decoded('B2893', 0.9));
    expect(joined.text).toBe('粤AB2893');
    expect(joined.chars.map((c) => c.char).join('')).toBe('粤AB2893');
    expect(joined.score).toBeCloseTo((2 * 0.6 + 5 * 0.9) / 7);
    expect(isPlate(joined.text)).toBe(true);
  });

  it('is no plate unless the upper row is a province and a letter and the lower row five characters', () => {
    expect(joinRows(decoded('粤'), decoded('B2893')).chars).toEqual([]);
    expect(joinRows(decoded('粤AB'), decoded('B2893')).chars).toEqual([]);
    expect(joinRows(decoded('粤A'), decoded('B289')).chars).toEqual([]);
    expect(joinRows(decoded('粤A'), decoded('B28931')).chars).toEqual([]);
    // A province read at ~0 confidence was not seen: the decoder forced whatever stood there into one.
    const unseen = decoded('粤A');
    unseen.chars[0]!.confidence = 0.01;
    expect(joinRows(unseen, decoded('B2893')).chars).toEqual([]);
  });
});
