import { describe, expect, it } from 'vitest';
import { imageBytes } from '../../src/image/image.js';
import { FrameReader, type DropReason, type Frame } from '../../src/ingest/frame-reader.js';

const W = 8, H = 4;
const SIZE = imageBytes('yuv420p', W, H); // 48 bytes

/** A byte stream of `count` frames in which every byte of frame i is i. */
function stream(count: number): Buffer {
  const out = Buffer.alloc(SIZE * count);
  for (let i = 0; i < count; i++) out.fill(i, i * SIZE, (i + 1) * SIZE);
  return out;
}

describe('FrameReader', () => {
  it('cuts exact frames whatever the chunk boundaries', () => {
    for (const chunkSize of [1, 7, SIZE - 1, SIZE, SIZE + 1, 3 * SIZE + 5, 1000]) {
      const reader = new FrameReader('cam', W, H);
      const got: number[] = [];
      reader.setConsumer((frame) => {
        expect(frame.data.length).toBe(SIZE);
        // Every byte of the frame belongs to the same source frame: framing is exact.
        expect(new Set(frame.data).size).toBe(1);
        got.push(frame.data[0]!);
      });
      const data = stream(10);
      for (let pos = 0; pos < data.length; pos += chunkSize) reader.push(data.subarray(pos, pos + chunkSize));
      expect(got, `chunk size ${chunkSize}`).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('gives a busy consumer the newest frame and counts the ones it skipped', async () => {
    const drops: DropReason[] = [];
    const reader = new FrameReader('cam', W, H, { onDrop: (r) => drops.push(r) });
    const seen: Array<{ value: number; seq: number }> = [];
    let release!: () => void;
    reader.setConsumer((frame: Frame) => {
      seen.push({ value: frame.data[0]!, seq: frame.seq });
      return new Promise<void>((resolve) => (release = resolve));
    });
    const data = stream(6);
    reader.push(data.subarray(0, SIZE)); // frame 0 goes to the consumer, which stays busy
    reader.push(data.subarray(SIZE, 5 * SIZE)); // frames 1..4 arrive meanwhile: 1, 2, 3 are replaced by 4
    expect(drops).toEqual(['busy', 'busy', 'busy']);
    release();
    await new Promise((r) => setImmediate(r));
    expect(seen.map((s) => s.value)).toEqual([0, 4]);
    expect(seen.map((s) => s.seq)).toEqual([0, 4]);
    release();
    await new Promise((r) => setImmediate(r));
    reader.push(data.subarray(5 * SIZE)); // consumer idle again: frame 5 is delivered at once
    expect(seen.map((s) => s.value)).toEqual([0, 4, 5]);
  });

  it('never hands the consumer a buffer that is being written', async () => {
    const reader = new FrameReader('cam', W, H);
    const corrupted: number[] = [];
    reader.setConsumer(async (frame) => {
      const first = frame.data[0]!;
      await new Promise((r) => setTimeout(r, 2));
      if (!frame.data.every((b) => b === first)) corrupted.push(frame.seq);
    });
    const data = stream(200);
    for (let i = 0; i < 200; i++) {
      reader.push(data.subarray(i * SIZE, (i + 1) * SIZE));
      if (i % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(corrupted).toEqual([]);
  });

  it('drops a frame cut short by the end of the stream and starts clean after it', () => {
    const drops: DropReason[] = [];
    const reader = new FrameReader('cam', W, H, { onDrop: (r) => drops.push(r) });
    const got: number[] = [];
    reader.setConsumer((f) => void got.push(f.data[0]!));
    const data = stream(3);
    reader.push(data.subarray(0, SIZE + 10));
    reader.reset();
    expect(drops).toEqual(['truncated']);
    reader.push(data.subarray(2 * SIZE));
    expect(got).toEqual([0, 2]);
  });
});
