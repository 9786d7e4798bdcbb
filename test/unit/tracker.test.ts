// The tracker on scripted detection sequences: times in ms at 5 fps (200 ms apart).
import { describe, expect, it } from 'vitest';
import { TrackerSchema } from '../../src/config/schema.js';
import { Tracker, type Track, type TrackInput } from '../../src/track/tracker.js';

const config = TrackerSchema.parse({});
const W = 640, H = 360;

function person(x: number, y = 100, w = 30, h = 80, score = 0.8): TrackInput {
  return { label: 'person', score, box: [x, y, x + w, y + h] };
}

/** Runs frames through a tracker; returns every track that was confirmed and every one that ended. */
function run(tracker: Tracker, frames: Array<{ at: number; dets: TrackInput[]; examined?: Array<{ x: number; y: number; width: number; height: number }> }>) {
  const confirmed: Track[] = [];
  const ended: Track[] = [];
  for (const f of frames) {
    const u = tracker.update(f.dets, f.at, f.examined);
    confirmed.push(...u.confirmed);
    ended.push(...u.ended);
  }
  return { confirmed, ended };
}

describe('Tracker', () => {
  it('turns one walker into one confirmed track with a path, and ends it after it leaves', () => {
    const t = new Tracker(config, W, H);
    const frames = Array.from({ length: 20 }, (_, i) => ({ at: i * 200, dets: [person(50 + i * 10)] }));
    const gone = Array.from({ length: 30 }, (_, i) => ({ at: 4000 + i * 200, dets: [] }));
    const { confirmed, ended } = run(t, [...frames, ...gone]);
    expect(confirmed).toHaveLength(1);
    expect(ended).toEqual(confirmed);
    const track = ended[0]!;
    expect(track.label).toBe('person');
    expect(track.firstSeen).toBe(0);
    expect(track.lastSeen).toBe(3800);
    expect(track.path.length).toBeGreaterThanOrEqual(7);
    expect(track.path[0]![1]).toBeLessThan(track.path[track.path.length - 1]![1]);
    // It moved, so it was never stationary, and it ended max_lost_s after it was last seen (not earlier).
    expect(track.stationary).toBe(false);
    expect(t.live).toHaveLength(0);
  });

  it('does not confirm a one-frame false positive', () => {
    const t = new Tracker(config, W, H);
    const { confirmed } = run(t, [{ at: 0, dets: [person(300)] }, { at: 200, dets: [] }, { at: 400, dets: [] }]);
    expect(confirmed).toEqual([]);
  });

  it('keeps two people apart when their paths cross', () => {
    const t = new Tracker(config, W, H);
    // A walks right, B walks left, on slightly different rows; they pass at frame 10.
    const frames = Array.from({ length: 21 }, (_, i) => ({
      at: i * 200,
      dets: [person(100 + i * 12, 100), person(340 - i * 12, 112)],
    }));
    const { confirmed } = run(t, frames);
    expect(confirmed).toHaveLength(2);
    const [a, b] = [...t.live].sort((x, y) => x.id - y.id);
    // Each track kept its own direction all the way: identities did not swap at the crossing.
    const dx = (tr: Track) => tr.path.slice(1).map((p, i) => p[1] - tr.path[i]![1]);
    expect(dx(a!).every((d) => d > 0) !== dx(b!).every((d) => d > 0)).toBe(true);
    expect(dx(a!).every((d) => d !== 0)).toBe(true);
  });

  it('carries a track through a short occlusion at its predicted place', () => {
    const t = new Tracker(config, W, H);
    const before = Array.from({ length: 10 }, (_, i) => ({ at: i * 200, dets: [person(50 + i * 10)] }));
    // Behind a pole for 1.4 s: the detector looks (whole frame) and does not see it.
    const hidden = Array.from({ length: 7 }, (_, i) => ({ at: 2000 + i * 200, dets: [] }));
    const after = Array.from({ length: 10 }, (_, i) => ({ at: 3400 + i * 200, dets: [person(50 + (17 + i) * 10)] }));
    const { confirmed, ended } = run(t, [...before, ...hidden, ...after]);
    expect(confirmed).toHaveLength(1);
    expect(ended).toHaveLength(0);
    expect(t.live[0]!.lastSeen).toBe(5200);
  });

  it('makes a car parked for ten minutes one event, looked at only every few seconds', () => {
    const t = new Tracker(config, W, H);
    const car: TrackInput = { label: 'car', score: 0.7, box: [200, 150, 320, 230] };
    const frames: Array<{ at: number; dets: TrackInput[]; examined?: Array<{ x: number; y: number; width: number; height: number }> }> = [];
    let checks = 0;
    for (let at = 0; at <= 600_000; at += 200) {
      // The pipeline only sends the car's region when the tracker asks for it (no motion there).
      const wanted = t.regionsToExamine(at);
      if (at < 12_000 || wanted.length > 0) {
        checks++;
        frames.push({ at, dets: [car], examined: [{ x: 150, y: 100, width: 220, height: 180 }] });
        run(t, frames.splice(0));
      } else {
        run(t, [{ at, dets: [], examined: [] }]);
      }
    }
    expect(t.live).toHaveLength(1);
    expect(t.live[0]!.stationary).toBe(true);
    expect(t.live[0]!.id).toBe(1);
    // 60 looks in the first 12 s, then one every stationary_check_s (10 s), not 3000.
    expect(checks).toBeLessThan(60 + 600 / config.stationary_check_s + 5);
    // When it drives away it is missed where it was looked for, and the one event ends.
    const leave = run(t, Array.from({ length: 5 }, (_, i) => ({ at: 600_200 + i * 200 + 61_000, dets: [], examined: [{ x: 150, y: 100, width: 220, height: 180 }] })));
    expect(leave.ended.map((x) => x.id)).toEqual([1]);
  });

  it('labels by vote, follows a car/truck flicker as one vehicle, and records zones by the foot point', () => {
    const zones = [{ name: 'crossing', polygon: [[0.4, 0.5], [0.7, 0.5], [0.7, 1], [0.4, 1]] as Array<[number, number]> }];
    const t = new Tracker(config, W, H, zones);
    const frames = Array.from({ length: 12 }, (_, i) => ({
      at: i * 200,
      dets: [{ label: i % 4 === 3 ? 'truck' : 'car', score: 0.6, box: [100 + i * 15, 150, 220 + i * 15, 230] as [number, number, number, number] }],
    }));
    const { confirmed } = run(t, frames);
    expect(confirmed).toHaveLength(1);
    expect(t.live[0]!.label).toBe('car');
    expect([...t.live[0]!.zones]).toEqual(['crossing']);
  });

  describe('coasting (tracker.coast_s)', () => {
    const motionAt = (x: number, y = 100) => [{ x, y, width: 30, height: 80 }];
    /** A walker detected every frame for 1 s, 10 px per frame to the right: steady and confirmed. */
    const steadyWalker = () => {
      const t = new Tracker(config, W, H);
      run(t, Array.from({ length: 6 }, (_, i) => ({ at: i * 200, dets: [person(50 + i * 10)] })));
      return t;
    };

    it('lets a frame skip the detector when all motion is a confirmed track moving as predicted', () => {
      const t = steadyWalker();
      // Next frame: the walker moved on as predicted and is all that moves.
      expect(t.canCoast(1200, motionAt(110))).toBe(true);
      // Carried by prediction, the track is not missed and not ended.
      const u = t.update([], 1200, []);
      expect(u.ended).toEqual([]);
      expect(t.live[0]!.misses).toBe(0);
    });

    it('detects when something moves elsewhere, when the track is due a look, or when a track is new', () => {
      const t = steadyWalker();
      expect(t.canCoast(1200, [...motionAt(110), ...motionAt(400, 200)])).toBe(false);
      // coast_s (0.4 s) after the last detection it must be looked at again.
      expect(t.canCoast(1000 + 400, motionAt(130))).toBe(false);
      expect(t.canCoast(1200, [])).toBe(true);
      // A new walker's motion is its own, on no steady track: the frame goes to the detector.
      t.update([person(110), person(300, 200)], 1200);
      expect(t.canCoast(1400, [...motionAt(120), ...motionAt(305, 200)])).toBe(false);
    });

    it('does not coast a track that jumped away from its prediction, or with coast_s 0', () => {
      const t = steadyWalker();
      t.update([person(200)], 1200);
      expect(t.canCoast(1400, motionAt(210))).toBe(false);
      const off = new Tracker({ ...config, coast_s: 0 }, W, H);
      run(off, Array.from({ length: 6 }, (_, i) => ({ at: i * 200, dets: [person(50 + i * 10)] })));
      expect(off.canCoast(1200, motionAt(110))).toBe(false);
    });
  });
});

describe('Tracker and ridden two-wheelers', () => {
  /** A motorbike with its rider as the detector joins them, moving right 10 px a frame. */
  function ridden(x: number, score = 0.6): TrackInput {
    const riderBox: [number, number, number, number] = [x + 2, 60, x + 32, 140];
    const bikeBox: [number, number, number, number] = [x, 100, x + 34, 170];
    return { label: 'motorcycle', score, box: [x, 60, x + 34, 170], parts: { vehicle: bikeBox, riders: [riderBox] } };
  }
  const riderAlone = (x: number): TrackInput => ({ label: 'person', score: 0.7, box: [x + 2, 60, x + 32, 140] });

  it('keeps a two-wheeler one motorcycle track through frames where only its rider is seen', () => {
    const t = new Tracker(config, W, H);
    const frames = Array.from({ length: 12 }, (_, i) => ({ at: i * 200, dets: [i % 3 === 2 ? riderAlone(50 + i * 10) : ridden(50 + i * 10)] }));
    const { confirmed } = run(t, [...frames, ...Array.from({ length: 30 }, (_, i) => ({ at: 2400 + i * 200, dets: [] }))]);
    expect(confirmed.map((c) => c.label)).toEqual(['motorcycle']);
    const track = confirmed[0]!;
    expect(track.hits).toBe(12);
    // Moved with the rider: the bike is where the rider's last sighting put it, the best picture a full one.
    expect(track.box[0]).toBeCloseTo(160, 0);
    expect(track.best!.parts).toBeDefined();
  });

  it('makes a person track that is then seen riding a bike a motorcycle, and leaves a passer-by of a parked bike alone', () => {
    const t = new Tracker(config, W, H);
    const frames = Array.from({ length: 10 }, (_, i) => ({ at: i * 200, dets: [i < 4 ? riderAlone(50 + i * 10) : ridden(50 + i * 10)] }));
    expect(run(t, frames).confirmed.map((c) => c.label)).toEqual(['motorcycle']);

    const parked = new Tracker(config, W, H);
    const bike: TrackInput = { label: 'motorcycle', score: 0.6, box: [300, 100, 340, 170] };
    const walk = Array.from({ length: 10 }, (_, i) => ({ at: i * 200, dets: i < 5 ? [bike] : [bike, person(290 + (i - 5) * 4, 70, 30, 90)] }));
    const { confirmed } = run(parked, walk);
    expect(confirmed.map((c) => c.label).sort()).toEqual(['motorcycle', 'person']);
    expect(confirmed.find((c) => c.label === 'motorcycle')!.box).toEqual(bike.box);
  });
});
