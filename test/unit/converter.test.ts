// Per-op golden tests of the TF.js → ONNX converter: each small graph runs in @tensorflow/tfjs (CPU
// backend, the reference) and, converted, in onnxruntime; outputs must agree.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { transpose } from '../../src/models/ndarray.js';
import { convertGraph, type ConvertResult } from '../../src/models/tf-to-onnx.js';
import { halfToFloat, loadTfjsGraph } from '../../src/models/tfjs-graph.js';
import { floatToHalf, ints, seededRandom, str, strs, TfGraphBuilder } from '../harness/tf-graph-builder.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Golden {
  maxDiff: number;
  result: ConvertResult;
}

/** Runs the graph both ways on seeded random input; returns the largest difference over all outputs. */
async function golden(g: TfGraphBuilder, input: { name: string; shape: number[] }, outputs: string[], shuffle = false): Promise<Golden> {
  const { file, json, weights } = g.write(outputs, shuffle);
  const random = seededRandom(99);
  const data = Float32Array.from({ length: input.shape.reduce((a, b) => a * b, 1) }, () => random() * 4);
  const model = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as object,
      weightSpecs: (json.weightsManifest as Array<{ weights: tf.io.WeightsManifestEntry[] }>)[0]!.weights,
      weightData: weights,
    }),
  );
  const expected = model.execute({ [input.name]: tf.tensor(data, input.shape) }, outputs) as tf.Tensor | tf.Tensor[];
  const expectedList = Array.isArray(expected) ? expected : [expected];

  const result = convertGraph(loadTfjsGraph(file), { outputs, name: 'golden' });
  // An NHWC image placeholder becomes a planar (NCHW) ONNX input.
  const planar = result.input.shape.join() === input.shape.join()
    ? data
    : (transpose({ dtype: 'float32', shape: input.shape, data }, [0, 3, 1, 2]).data as Float32Array);
  const session = await ort.InferenceSession.create(result.onnx, { graphOptimizationLevel: 'all' });
  const actual = await session.run({ [result.input.name]: new ort.Tensor('float32', planar, result.input.shape) });
  let maxDiff = 0;
  outputs.forEach((name, i) => {
    const want = expectedList[i]!;
    const got = actual[name]!;
    expect(got.dims, name).toEqual(want.shape);
    const a = want.dataSync();
    const b = got.data as Float32Array;
    for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
  });
  return { maxDiff, result };
}

const NHWC = str('NHWC');
const conv = (strides: number[], padding: string, extra: Record<string, unknown> = {}) => ({
  strides: ints(...strides),
  padding: str(padding),
  data_format: NHWC,
  dilations: ints(1, 1, 1, 1),
  ...extra,
});

describe('TF.js → ONNX converter, op by op against tfjs', () => {
  it('Conv2D VALID and SAME, odd and even sizes, strides 1 and 2, dilation', async () => {
    for (const [size, stride, padding, dilation] of [
      [9, 1, 'VALID', 1], [8, 2, 'SAME', 1], [9, 2, 'SAME', 1], [10, 1, 'SAME', 2], [7, 2, 'VALID', 1],
    ] as const) {
      const g = new TfGraphBuilder(size * 10 + stride);
      g.input('x', [1, size, size, 3]);
      g.const('w', [3, 3, 3, 5]);
      g.op('Conv2D', 'y', ['x', 'w'], conv([1, stride, stride, 1], padding, { dilations: ints(1, dilation, dilation, 1) }));
      const { maxDiff } = await golden(g, { name: 'x', shape: [1, size, size, 3] }, ['y']);
      expect(maxDiff, `${size}px stride ${stride} ${padding} dilation ${dilation}`).toBeLessThan(1e-4);
    }
  });

  it('_FusedConv2D with BiasAdd and Relu / Relu6, weights quantized to float16', async () => {
    for (const fused of [['BiasAdd'], ['BiasAdd', 'Relu'], ['BiasAdd', 'Relu6']]) {
      const g = new TfGraphBuilder(7);
      g.input('x', [1, 8, 8, 3]);
      g.const('w', [3, 3, 3, 4], undefined, { float16: true });
      g.const('b', [4], [0.5, -0.5, 1, -1]);
      g.op('_FusedConv2D', 'y', ['x', 'w', 'b'], conv([1, 2, 2, 1], 'SAME', { fused_ops: strs(...fused), num_args: { i: '1' }, epsilon: { f: 0 } }));
      const { maxDiff } = await golden(g, { name: 'x', shape: [1, 8, 8, 3] }, ['y']);
      expect(maxDiff, fused.join('+')).toBeLessThan(1e-4);
    }
  });

  it('depthwise convolutions (multiplier 1 and 2, fused), max and average pooling', async () => {
    const g = new TfGraphBuilder(3);
    g.input('x', [1, 10, 10, 3]);
    g.const('dw2', [3, 3, 3, 2]);
    g.op('DepthwiseConv2dNative', 'd1', ['x', 'dw2'], conv([1, 2, 2, 1], 'SAME'));
    g.const('dw1', [3, 3, 6, 1]);
    g.const('db', [6]);
    g.op('FusedDepthwiseConv2dNative', 'd2', ['d1', 'dw1', 'db'], conv([1, 1, 1, 1], 'SAME', { fused_ops: strs('BiasAdd', 'Relu6'), num_args: { i: '1' } }));
    g.op('MaxPool', 'mp', ['d2'], { ksize: ints(1, 3, 3, 1), strides: ints(1, 2, 2, 1), padding: str('SAME'), data_format: NHWC });
    g.op('AvgPool', 'ap', ['d1'], { ksize: ints(1, 2, 2, 1), strides: ints(1, 1, 1, 1), padding: str('VALID'), data_format: NHWC });
    const { maxDiff, result } = await golden(g, { name: 'x', shape: [1, 10, 10, 3] }, ['mp', 'ap']);
    expect(maxDiff).toBeLessThan(1e-4);
    // Inputs go in planar, conv outputs stay planar: only the two graph outputs need a Transpose.
    expect(result.stats.transposes).toBe(2);
  });

  it('element-wise ops with constants of lower rank (hard-swish, bias, scale) and between tensors', async () => {
    const g = new TfGraphBuilder(5);
    g.input('x', [1, 6, 6, 3]);
    g.const('w', [1, 1, 3, 4]);
    g.op('Conv2D', 'c', ['x', 'w'], conv([1, 1, 1, 1], 'VALID'));
    g.const('bias', [4]);
    g.op('BiasAdd', 'b', ['c', 'bias'], { data_format: NHWC });
    g.const('three', [], [3]);
    g.const('sixth', [], [1 / 6]);
    g.op('AddV2', 'p3', ['b', 'three']);
    g.op('Relu6', 'r6', ['p3']);
    g.op('Mul', 'hs1', ['sixth', 'b']);
    g.op('Mul', 'hs', ['hs1', 'r6']);
    g.const('scale', [1, 1, 4]);
    g.op('Mul', 'sc', ['hs', 'scale']);
    g.op('Sub', 'd', ['sc', 'c']);
    g.op('RealDiv', 'q', ['d', 'three']);
    g.op('Maximum', 'mx', ['q', 'hs']);
    g.op('LeakyRelu', 'lr', ['mx'], { alpha: { f: 0.1 } });
    g.op('Sigmoid', 's', ['lr']);
    const { maxDiff } = await golden(g, { name: 'x', shape: [1, 6, 6, 3] }, ['s']);
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('Pad and PadV2 before a VALID convolution, concat on the channel axis, squeeze-excite Mean', async () => {
    const g = new TfGraphBuilder(11);
    g.input('x', [1, 7, 7, 3]);
    g.intConst('pads', [4, 2], [0, 0, 1, 2, 2, 1, 0, 0]);
    g.op('Pad', 'p', ['x', 'pads'], { Tpaddings: { type: 'DT_INT32' } });
    g.const('w', [3, 3, 3, 4]);
    g.op('Conv2D', 'c1', ['p', 'w'], conv([1, 2, 2, 1], 'VALID'));
    g.const('cv', [], [1.5]);
    g.op('PadV2', 'p2', ['c1', 'pads', 'cv']);
    g.op('Relu', 'r', ['p2']);
    g.intConst('axis', [], [-1]);
    g.op('ConcatV2', 'cat', ['r', 'p2', 'axis'], { N: { i: '2' } });
    g.intConst('hw', [2], [1, 2]);
    g.op('Mean', 'm', ['cat', 'hw'], { keep_dims: { b: true } });
    g.op('Sigmoid', 'gate', ['m']);
    g.op('Mul', 'se', ['cat', 'gate']);
    const { maxDiff } = await golden(g, { name: 'x', shape: [1, 7, 7, 3] }, ['se']);
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('ResizeBilinear with half-pixel, asymmetric and align-corners coordinates', async () => {
    for (const [halfPixel, alignCorners] of [[true, false], [false, false], [false, true]]) {
      const g = new TfGraphBuilder(13);
      g.input('x', [1, 6, 5, 3]);
      g.const('w', [1, 1, 3, 2]);
      g.op('Conv2D', 'c', ['x', 'w'], conv([1, 1, 1, 1], 'VALID'));
      g.intConst('size', [2], [12, 10]);
      g.op('ResizeBilinear', 'up', ['c', 'size'], { half_pixel_centers: { b: halfPixel }, align_corners: { b: alignCorners } });
      const { maxDiff } = await golden(g, { name: 'x', shape: [1, 6, 5, 3] }, ['up']);
      expect(maxDiff, `half_pixel ${halfPixel} align_corners ${alignCorners}`).toBeLessThan(1e-5);
    }
  });

  it('a PyTorch-style NCHW graph: Transposes around convs vanish; reshape, split and sigmoid heads', async () => {
    const g = new TfGraphBuilder(17);
    g.input('x', [1, 3, 8, 8]);
    g.intConst('toNhwc', [4], [0, 2, 3, 1]);
    g.intConst('toNchw', [4], [0, 3, 1, 2]);
    g.op('Transpose', 't1', ['x', 'toNhwc']);
    g.const('w', [3, 3, 3, 6]);
    g.op('Conv2D', 'c', ['t1', 'w'], conv([1, 1, 1, 1], 'SAME'));
    g.op('Transpose', 't2', ['c', 'toNchw']);
    g.op('LeakyRelu', 'a', ['t2'], { alpha: { f: 0.1 } });
    // Shape constants built the way the NanoDet export does: SparseToDense of nothing, plus a constant.
    g.intConst('idx', [0, 1], []);
    g.intConst('outShape', [1], [3]);
    g.intConst('vals', [0], []);
    g.intConst('zero', [], [0]);
    g.op('SparseToDense', 'zeros', ['idx', 'outShape', 'vals', 'zero'], { Tindices: { type: 'DT_INT32' }, validate_indices: { b: true } });
    g.intConst('base', [3], [1, 6, -1]);
    g.op('AddV2', 'shape', ['base', 'zeros'], { T: { type: 'DT_INT32' } });
    g.op('Reshape', 'flat', ['a', 'shape']);
    g.intConst('swap', [3], [0, 2, 1]);
    g.op('Transpose', 'rows', ['flat', 'swap']);
    g.intConst('sizes', [2], [2, -1]);
    g.intConst('dim', [], [2]);
    g.op('SplitV', 'sp', ['rows', 'sizes', 'dim'], { num_split: { i: '2' } });
    g.op('Sigmoid', 'cls', ['sp']);
    const { maxDiff, result } = await golden(g, { name: 'x', shape: [1, 3, 8, 8] }, ['cls', 'sp:1'], true);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(result.stats.folded).toBeGreaterThanOrEqual(2);
    // The NHWC round trip costs nothing; the (N, C, HW) → (N, HW, C) swap is carried through the split and
    // paid once per output, on the outputs' final layout.
    expect(result.stats.transposes).toBe(2);
  });
});

describe('weights', () => {
  it('decodes IEEE half floats, including subnormals and infinities', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    for (const v of [0.1, -3.75, 1000, 0.0001]) expect(halfToFloat(floatToHalf(v))).toBeCloseTo(v, 3);
  });
});
