// The attribute stage: each picture converted once, enrichers run only for sightings that are recorded, the
// best sighting kept until its track ends.
import { describe, expect, it } from 'vitest';
import { AttributeStage, type Enricher } from '../../src/attributes/attribute-stage.js';
import { Picture } from '../../src/attributes/picture.js';
import type { Box } from '../../src/image/geometry.js';
import type { Track } from '../../src/track/tracker.js';

const frame = (luma: number) => {
  const width = 8, height = 6;
  const data = new Uint8Array(width * height * 1.5).fill(128);
  data.fill(luma, 0, width * height);
  return { kind: 'yuv420p' as const, width, height, data };
};
const track = (box: Box, best?: Box) => ({ id: 1, label: 'car', box, best: best ? { box: best } : undefined }) as unknown as Track;

describe('AttributeStage', () => {
  it('converts a picture to RGB once, however many enrichers ask', () => {
    const picture = new Picture(frame(200));
    const seen = new Set<unknown>();
    const enrichers: Enricher[] = [0, 1, 2].map(() => ({ describe: (p) => (seen.add(p.rgb), {}) }));
    new AttributeStage(enrichers).started(track([0, 0, 4, 4]), picture, 1);
    expect(seen.size).toBe(1);
    expect(picture.rgb.data).toHaveLength(8 * 6 * 3);
  });

  it('describes a track when it starts and its best sighting when it ends, and only then', () => {
    const calls: Array<{ luma: number; box: Box }> = [];
    const stage = new AttributeStage([{ describe: (p, box) => (calls.push({ luma: p.frame.data[0]!, box }), { colour: { colour: 'white', confidence: 1 } }) }]);
    const t = track([0, 0, 4, 4], [1, 1, 5, 5]);
    const started = stage.started(t, new Picture(frame(50)), 10);
    expect(started).toMatchObject({ at: 10, box: [0, 0, 4, 4], attributes: { colour: { colour: 'white' } } });
    stage.improved(t, new Picture(frame(90)), 20);
    stage.improved(t, new Picture(frame(120)), 30);
    expect(calls).toHaveLength(1);
    const ended = stage.ended(t)!;
    expect(ended.at).toBe(30);
    expect(calls).toEqual([{ luma: 50, box: [0, 0, 4, 4] }, { luma: 120, box: [1, 1, 5, 5] }]);
    // A track whose best sighting was the one recorded at its start has nothing new at its end.
    const u = track([0, 0, 4, 4], [0, 0, 4, 4]);
    stage.started(u, new Picture(frame(60)), 40);
    expect(stage.ended(u)).toBeUndefined();
    expect(stage.ended(u)).toBeUndefined();
  });

  it('votes a track\'s colours over sightings spaced in time, whichever sighting ends up the snapshot', () => {
    // The enricher names the colour from the frame's luma: 50 red, 90 red, 120 black.
    const colour = (luma: number) => ({ colour: { colour: luma < 100 ? 'red' : 'black', confidence: 0.6 } });
    const stage = new AttributeStage([{ describe: (p) => colour(p.frame.data[0]!) }]);
    const t = track([0, 0, 4, 4], [1, 1, 5, 5]);
    stage.started(t, new Picture(frame(50)), 0);
    stage.improved(t, new Picture(frame(90)), 500);
    stage.improved(t, new Picture(frame(120)), 1000);
    const ended = stage.ended(t)!;
    expect(ended.picture.frame.data[0]).toBe(120);
    expect(ended.attributes.colour).toMatchObject({ colour: 'red', alternative: 'black' });
  });

  it('describes a track again at its end when its label changed since it was recorded', () => {
    const stage = new AttributeStage([{ describe: (_p, _box, label) => (label === 'person' ? { upper_colour: { colour: 'red', confidence: 1 } } : { colour: { colour: 'blue', confidence: 1 } }) }]);
    const t = { id: 2, label: 'person', box: [0, 0, 4, 4], best: { box: [0, 0, 4, 4] } } as unknown as Track;
    expect(stage.started(t, new Picture(frame(60)), 0).attributes).toEqual({ upper_colour: { colour: 'red', confidence: 1 } });
    (t as { label: string }).label = 'bicycle';
    expect(stage.ended(t)!.attributes).toEqual({ colour: { colour: 'blue', confidence: 1 } });
  });
});
