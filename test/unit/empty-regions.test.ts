// Motion where the detector just found nothing is not sent to it again until recheck_empty_s is up.
import { describe, expect, it } from 'vitest';
import { EmptyRegions } from '../../src/pipeline/empty-regions.js';

const leaf = { x: 470, y: 0, width: 40, height: 32 };
const walker = { x: 200, y: 150, width: 30, height: 80 };

describe('EmptyRegions', () => {
  it('holds back motion in an area found empty until its recheck is due, and never motion elsewhere', () => {
    const empty = new EmptyRegions(1000);
    expect(empty.unexplained([leaf, walker], 0)).toEqual([leaf, walker]);
    // The detector looked at both and found only the walker.
    empty.examined([leaf, walker], [[198, 148, 232, 232]], 0);
    // The leaf flutters a few pixels: still held back; the walker is not.
    const flutter = { ...leaf, x: leaf.x + 4, y: 2 };
    expect(empty.unexplained([flutter, walker], 200)).toEqual([walker]);
    // A second later the leaf is looked at again.
    expect(empty.unexplained([flutter], 1000)).toEqual([flutter]);
  });

  it('does not hold back motion that only touches an empty area, and does nothing with recheck 0', () => {
    const empty = new EmptyRegions(1000);
    empty.examined([leaf], [], 0);
    const passing = { x: 440, y: 10, width: 60, height: 60 };
    expect(empty.unexplained([passing], 100)).toEqual([passing]);
    const off = new EmptyRegions(0);
    off.examined([leaf], [], 0);
    expect(off.unexplained([leaf], 100)).toEqual([leaf]);
  });
});
