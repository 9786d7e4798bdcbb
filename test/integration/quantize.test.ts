// The static int8 detector: the fp32 folding it starts from is exact, its convolutions are int8 and fused by
// onnxruntime into QLinearConv, and on fixture frames the calibration never saw it finds what fp32 finds.
import { readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DETECTOR_DEFAULTS } from '../../src/config/schema.js';
import { Detector, type LabeledDetection } from '../../src/detect/detector.js';
import { resolveModel } from '../../src/detect/model.js';
import { preprocess } from '../../src/detect/preprocess.js';
import { iou } from '../../src/image/geometry.js';
import { CALIBRATION_FRAMES, INTEL, VTEST, calibrationFile, decodeFrames, vehiclesDev, type CalibrationFile, type FrameRef } from '../../src/models/calibrate.js';
import { decodeModel } from '../../src/models/onnx-builder.js';
import { foldForQuantization } from '../../src/models/quantize.js';
import { sharedFixture } from '../harness/media-paths.js';

const times = <T>(n: number, f: (k: number) => T): T[] => Array.from({ length: n }, (_, k) => f(k));

/** Odd seconds of both videos and the even-numbered second half of vehicles-dev: frames calibration never saw. */
const HELD_OUT: FrameRef[] = [
  ...times(30, (k) => ({ source: VTEST, index: 20 * k + 10 })),
  ...times(15, (k) => ({ source: INTEL, index: 25 * k + 12 })),
  ...times(36, (k) => ({ source: vehiclesDev(74 + 2 * k), index: 0 })),
];

const key = (f: FrameRef) => `${f.source}#${f.index}`;

async function run(model: string | Uint8Array, input: Float32Array, inputName: string, size: { width: number; height: number }): Promise<Record<string, Float32Array>> {
  // Two calls because create's overloads take a path or bytes, not either.
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  const out = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, size.height, size.width]) });
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

// The 416 model and the 640x384 default are the same graph converted at two sizes, quantized alike.
describe.each(['nanodet-416', 'nanodet-640x384'])('%s-int8', (from) => {
  const fp32 = resolveModel(from);
  const int8 = resolveModel(`${from}-int8`);

  it('starts from a folded fp32 graph that gives the same outputs as the converted one on a real frame', async () => {
    sharedFixture(VTEST.replace(/^fixtures\//, ''));
    const [frame] = decodeFrames([{ source: VTEST, index: 10 }]);
    const input = new Float32Array(3 * fp32.input.width * fp32.input.height);
    preprocess(frame!, fp32, input);
    const original = readFileSync(fp32.path);
    const folded = foldForQuantization(original);
    const ops = (bytes: Uint8Array, op: string) => decodeModel(bytes).nodes.filter((n) => n.op === op).length;
    // Every Pad went into a Conv or the MaxPool, every bias Add into its Conv; the FPN's tensor Adds stay.
    expect([ops(original, 'Pad'), ops(folded, 'Pad')]).toEqual([29, 0]);
    expect([ops(original, 'Add'), ops(folded, 'Add')]).toEqual([38, 4]);
    expect(ops(folded, 'Conv')).toBe(34);

    const [a, b] = [await run(fp32.path, input, 'input_1', fp32.input), await run(folded, input, 'input_1', fp32.input)];
    for (const name of Object.keys(a)) {
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a[name]!.length; i++) {
        diff = Math.max(diff, Math.abs(a[name]![i]! - b[name]![i]!));
        scale = Math.max(scale, Math.abs(a[name]![i]!));
      }
      expect(diff / Math.max(1, scale), name).toBeLessThan(1e-5);
    }
  });

  it('has int8 weights for its int8 convolutions, and onnxruntime fuses every one into QLinearConv', async () => {
    const model = decodeModel(readFileSync(int8.path));
    const initializers = new Map(model.initializers.map((t) => [t.name, t]));
    const producers = new Map(model.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const convs = model.nodes.filter((n) => n.op === 'Conv');
    const int8Convs = convs.filter((c) => {
      const dq = producers.get(c.inputs[1]!);
      return dq?.op === 'DequantizeLinear' && initializers.get(dq.inputs[0]!)?.type === 'int8';
    });
    const fp32Convs = convs.filter((c) => initializers.get(c.inputs[1]!)?.type === 'float32');
    // The early stages (208-, 104- and 52-pixel) and the three output convolutions stay fp32.
    expect([int8Convs.length, fp32Convs.length]).toEqual([19, 15]);
    for (const c of int8Convs) {
      const bias = producers.get(c.inputs[2]!);
      expect(initializers.get(bias!.inputs[0]!)?.type, c.name).toBe('int32');
    }

    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-int8-'));
    const optimized = path.join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(int8.path, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
    await session.release();
    // Read raw: onnxruntime's optimised graph may hold data types vigil's own reader does not know.
    const graph = onnxProto.onnx.ModelProto.decode(readFileSync(optimized)).graph!;
    const count = (op: string) => graph.node!.filter((n) => n.opType === op).length;
    console.log(`int8 graph after onnxruntime's optimisation: ${count('QLinearConv')} QLinearConv, ${count('QLinearLeakyRelu')} QLinearLeakyRelu, ${count('QLinearConcat')} QLinearConcat, ${count('QLinearAdd')} QLinearAdd`);
    expect(count('QLinearConv')).toBe(int8Convs.length);
  });

  it(`finds at least 97% of fp32's detections on ${HELD_OUT.length} frames calibration never saw, and adds at most 5%`, async () => {
    const committed = JSON.parse(readFileSync(calibrationFile(from), 'utf8')) as CalibrationFile;
    const seen = new Set([...CALIBRATION_FRAMES, ...committed.frames].map(key));
    expect(HELD_OUT.filter((f) => seen.has(key(f)))).toEqual([]);
    for (const source of new Set(HELD_OUT.map((f) => f.source))) sharedFixture(source.replace(/^fixtures\//, ''));
    const frames = decodeFrames(HELD_OUT);

    const reference = await Detector.create({ ...DETECTOR_DEFAULTS, model: from });
    const quantized = await Detector.create({ ...DETECTOR_DEFAULTS, model: `${from}-int8` });
    const perClass = new Map<string, { fp32: number; matched: number }>();
    let fp32Count = 0;
    let matched = 0;
    let extra = 0;
    try {
      for (const frame of frames) {
        const [a, b] = await Promise.all([reference.detect(frame), quantized.detect(frame)]);
        const used = new Set<LabeledDetection>();
        for (const d of [...a.detections].sort((x, y) => y.score - x.score)) {
          const row = perClass.get(d.label) ?? { fp32: 0, matched: 0 };
          perClass.set(d.label, row);
          row.fp32++;
          fp32Count++;
          const match = b.detections
            .filter((e) => !used.has(e) && e.label === d.label && iou(e.box, d.box) >= 0.5)
            .sort((x, y) => iou(y.box, d.box) - iou(x.box, d.box))[0];
          if (!match) continue;
          used.add(match);
          row.matched++;
          matched++;
        }
        extra += b.detections.length - used.size;
      }
    } finally {
      await Promise.all([reference.close(), quantized.close()]);
    }
    const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}%`;
    console.log(
      `${from}-int8 vs fp32 on ${frames.length} held-out frames: ${matched}/${fp32Count} matched (${pct(matched, fp32Count)}), ` +
        `${extra} extra (${pct(extra, fp32Count)})\n  ` +
        [...perClass].map(([label, r]) => `${label} ${r.matched}/${r.fp32} (${pct(r.matched, r.fp32)})`).join(', '),
    );
    expect(fp32Count).toBeGreaterThan(300);
    expect(matched / fp32Count).toBeGreaterThanOrEqual(0.97);
    expect(extra / fp32Count).toBeLessThanOrEqual(0.05);
  }, 120_000);
});
