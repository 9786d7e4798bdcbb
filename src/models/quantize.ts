// Static int8 quantization of a converted detector, in ONNX's QDQ form: QuantizeLinear/DequantizeLinear pairs
// around float ops, which onnxruntime (graph optimisation `all`) fuses into its integer kernels (QLinearConv,
// QLinearAdd, QLinearConcat, QLinearLeakyRelu). The fusion is the whole gain: the same file with fusion
// disabled runs slower than fp32 (measured 62 ms against 51).
//
// Two steps, both deterministic (the same fp32 bytes and ranges give the same int8 bytes):
// 1. fold: Conv → Add(constant) into the Conv's bias, and explicit Pad nodes into the Conv or MaxPool after
//    them. Exact in fp32, and required: a Conv followed by an Add is not fused into QLinearConv.
// 2. quantize: per-channel symmetric int8 weights (axis 0), int32 biases at scale s_x·s_w, uint8 asymmetric
//    activations from calibrated ranges, one DequantizeLinear per consumer. Ops that only move or pick values
//    (MaxPool, Resize, Reshape, Transpose, Split) keep their input's quantisation, so ORT can run them on the
//    bytes or drop their Q/DQ pair. Two kinds of convolution stay fp32 (QuantizeOptions says why).
import { decodeModel, encodeModel, floatsOf, int64sOf, tensorOf, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-builder.js';

/** Calibrated activation ranges, by tensor name of the folded fp32 graph. */
export type Ranges = Readonly<Record<string, readonly [number, number]>>;

/** Bump when the quantizer's output changes, so installed int8 models are rebuilt. */
export const QUANTIZER_VERSION = 1;

export interface QuantizeOptions {
  /**
   * The early convolutions stay fp32: those computed only from tensors at 1/fp32Stride of the input's
   * resolution or higher (default 8: NanoDet's 208-, 104- and 52-pixel backbone layers and the 52-pixel
   * lateral, a third of its multiply-adds). Measured on the calibration frames, the error of the scores
   * fp32 puts between 0.25 and 0.5 (RMS): 0.057 all int8, 0.0101 at stride 4, 0.0086 at 8; no later stage
   * in fp32 buys as much. The first layer reads the image itself, whose uint8 codes span the whole range:
   * without VNNI, onnxruntime's u8s8 kernels add products in pairs into int16, which saturates there (10%
   * error on that layer alone; 80% of fp32's detections kept with it int8, 93% with its weights at 7 bits).
   * 0 quantizes them all.
   */
  fp32Stride?: number;
  /**
   * Convolutions that make the graph outputs (class logits, box distributions) stay fp32 (default true):
   * quantized, the scores come out on steps of ~0.016 around the 0.35 threshold (error 0.0099 instead of
   * 0.0086); fp32, they cost 3% of the multiply-adds.
   */
  fp32Outputs?: boolean;
  docString?: string;
}

export interface QuantizeResult {
  onnx: Uint8Array;
  stats: { convs: number; int8Convs: number; nodes: number };
}

/** Ops with an integer kernel in ORT when their inputs are dequantized and their output quantized. */
const COMPUTE_OPS = new Set(['Conv', 'LeakyRelu', 'Add', 'Concat']);
/** Ops that only move or select values: their output keeps the input's scale and zero point. */
const PASS_THROUGH_OPS = new Set(['MaxPool', 'Resize', 'Reshape', 'Transpose', 'Split']);

/** The fp32 model with Pad and bias Add nodes folded away (the graph calibration runs and quantization rewrites). */
export function foldForQuantization(fp32: Uint8Array): Uint8Array {
  return encodeModel(fold(decodeModel(fp32)));
}

export function quantizeModel(fp32: Uint8Array, ranges: Ranges, options: QuantizeOptions = {}): QuantizeResult {
  const model = fold(decodeModel(fp32));
  const float = fp32Convs(model, options.fp32Stride ?? 8, options.fp32Outputs ?? true);
  const result = new Quantizer(model, ranges, float).run();
  if (options.docString !== undefined) result.docString = options.docString;
  const convs = model.nodes.filter((n) => n.op === 'Conv').length;
  return { onnx: encodeModel(result), stats: { convs, int8Convs: convs - float.size, nodes: result.nodes.length } };
}

// --- graph bookkeeping ----------------------------------------------------------------------------------

class GraphIndex {
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly initializers: Map<string, OnnxTensor>;
  readonly graphOutputs: Set<string>;

  constructor(readonly model: OnnxModel) {
    this.initializers = new Map(model.initializers.map((t) => [t.name, t]));
    this.graphOutputs = new Set(model.outputs.map((o) => o.name));
    for (const node of model.nodes) {
      for (const out of node.outputs) this.producer.set(out, node);
      for (const input of node.inputs) {
        if (!input) continue;
        const list = this.consumers.get(input) ?? [];
        if (!list.includes(node)) list.push(node);
        this.consumers.set(input, list);
      }
    }
  }

  consumersOf(tensor: string): OnnxNode[] {
    return this.consumers.get(tensor) ?? [];
  }

  /** Whether the tensor feeds exactly one node and is not a graph output (so it may disappear). */
  feedsOnlyOne(tensor: string): boolean {
    return this.consumersOf(tensor).length === 1 && !this.graphOutputs.has(tensor);
  }
}

function withoutUnusedInitializers(model: OnnxModel): OnnxModel {
  const used = new Set(model.nodes.flatMap((n) => n.inputs));
  return { ...model, initializers: model.initializers.filter((t) => used.has(t.name)) };
}

// --- step 1: folding ------------------------------------------------------------------------------------

function fold(model: OnnxModel): OnnxModel {
  return withoutUnusedInitializers(foldBiasAdds(foldPads(model)));
}

/**
 * A constant Pad before Conv (value 0) or MaxPool (value −∞, which MaxPool's own padding means) becomes that
 * node's `pads`. The TF.js converter makes SAME padding explicit this way; QLinearConv wants it inside.
 */
function foldPads(model: OnnxModel): OnnxModel {
  const g = new GraphIndex(model);
  const removed = new Set<OnnxNode>();
  for (const pad of model.nodes) {
    if (pad.op !== 'Pad' || (pad.attrs.mode ?? 'constant') !== 'constant') continue;
    const padsT = g.initializers.get(pad.inputs[1] ?? '');
    const valueT = pad.inputs[2] ? g.initializers.get(pad.inputs[2]) : undefined;
    if (!padsT || (pad.inputs[2] && !valueT)) continue;
    const pads = int64sOf(padsT);
    const value = valueT ? floatsOf(valueT)[0]! : 0;
    const out = pad.outputs[0]!;
    const users = g.consumersOf(out);
    // Only the spatial axes of an NCHW tensor, never a crop, and every consumer able to take it.
    const spatial = pads.length === 8 && [0, 1, 4, 5].every((i) => pads[i] === 0) && pads.every((p) => p >= 0);
    const takes = (n: OnnxNode) =>
      n.inputs[0] === out && (n.attrs.auto_pad ?? 'NOTSET') === 'NOTSET' && ((n.op === 'Conv' && value === 0) || (n.op === 'MaxPool' && value === -Infinity));
    if (!spatial || g.graphOutputs.has(out) || users.length === 0 || !users.every(takes)) continue;
    for (const user of users) {
      const [t, l, b, r] = (user.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
      user.attrs.pads = [t! + pads[2]!, l! + pads[3]!, b! + pads[6]!, r! + pads[7]!];
      user.inputs[0] = pad.inputs[0]!;
    }
    removed.add(pad);
  }
  return { ...model, nodes: model.nodes.filter((n) => !removed.has(n)) };
}

/** Conv → Add(per-channel constant) becomes the Conv's bias: QDQ fusion needs the bias inside the Conv. */
function foldBiasAdds(model: OnnxModel): OnnxModel {
  const g = new GraphIndex(model);
  const removed = new Set<OnnxNode>();
  const added: OnnxTensor[] = [];
  for (const conv of model.nodes) {
    if (conv.op !== 'Conv' || !g.feedsOnlyOne(conv.outputs[0]!)) continue;
    const add = g.consumersOf(conv.outputs[0]!)[0]!;
    if (add.op !== 'Add') continue;
    const constName = add.inputs.find((i) => i !== conv.outputs[0]);
    const c = constName ? g.initializers.get(constName) : undefined;
    const weights = g.initializers.get(conv.inputs[1] ?? '');
    if (!c || !weights || c.type !== 'float32') continue;
    const cout = weights.dims[0]!;
    // [1,C,1,1] or [C,1,1] adds per channel of an NCHW tensor; a scalar adds the same to every channel.
    const perChannel = (c.dims.length === 4 && c.dims[0] === 1) || c.dims.length === 3 ? c.dims.slice(-3) : undefined;
    const values = floatsOf(c);
    let delta: Float32Array;
    if (values.length === 1) delta = new Float32Array(cout).fill(values[0]!);
    else if (perChannel && perChannel[0] === cout && perChannel[1] === 1 && perChannel[2] === 1) delta = values;
    else continue;
    const old = conv.inputs[2] ? g.initializers.get(conv.inputs[2]) : undefined;
    if (conv.inputs[2] && !old) continue;
    const bias = old ? floatsOf(old) : new Float32Array(cout);
    // Summed in float32, as ORT would add the two at run time.
    const sum = Float32Array.from(bias, (b, i) => b + delta[i]!);
    const name = `${conv.name}/folded_bias`;
    added.push(tensorOf(name, 'float32', [cout], sum));
    conv.inputs[2] = name;
    conv.outputs[0] = add.outputs[0]!;
    removed.add(add);
  }
  return { ...model, nodes: model.nodes.filter((n) => !removed.has(n)), initializers: [...model.initializers, ...added] };
}

// --- step 2: QDQ ----------------------------------------------------------------------------------------

interface QParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 asymmetric parameters for a range widened to include 0 (so zero padding is exact). */
export function activationParams([min, max]: readonly [number, number]): QParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
  return { scale, zeroPoint: clamp(roundHalfEven(-lo / scale), 0, 255) };
}

/**
 * The convolutions that stay fp32: the early ones, computed (along every path from the input) only from
 * tensors at 1/stride of the input's resolution or higher, and (with `outputs`) those a graph output is
 * reached from without passing another convolution.
 */
function fp32Convs(model: OnnxModel, stride: number, outputs: boolean): Set<OnnxNode> {
  const g = new GraphIndex(model);
  const float = new Set<OnnxNode>();
  const heights = spatialHeights(model, g);
  const inputHeight = model.inputs[0]?.shape?.[2] ?? 0;
  const early = new Set(model.inputs.map((i) => i.name));
  for (const node of model.nodes) {
    const h = heights.get(node.outputs[0]!);
    const fromEarly = node.inputs.every((i) => !i || g.initializers.has(i) || early.has(i));
    if (h === undefined || h * stride < inputHeight || !fromEarly) continue;
    for (const o of node.outputs) early.add(o);
    if (node.op === 'Conv') float.add(node);
  }
  if (outputs) {
    const stack = model.outputs.map((o) => o.name);
    const seen = new Set<string>();
    while (stack.length > 0) {
      const tensor = stack.pop()!;
      const producer = g.producer.get(tensor);
      if (!producer || seen.has(tensor)) continue;
      seen.add(tensor);
      if (producer.op === 'Conv') float.add(producer);
      else stack.push(...producer.inputs.filter((i) => i && !g.initializers.has(i)));
    }
  }
  return float;
}

/** Each 4-D tensor's height, from the input's: what the stride rule needs (no general shape inference). */
function spatialHeights(model: OnnxModel, g: GraphIndex): Map<string, number> {
  const heights = new Map<string, number>();
  for (const input of model.inputs) if (input.shape?.length === 4) heights.set(input.name, input.shape[2]!);
  for (const node of model.nodes) {
    const h = heights.get(node.inputs[0] ?? '');
    if (h === undefined) continue;
    let out = h;
    if (node.op === 'Conv' || node.op === 'MaxPool' || node.op === 'AveragePool') {
      const k = (node.attrs.kernel_shape as number[])[0]!;
      const s = (node.attrs.strides as number[] | undefined)?.[0] ?? 1;
      const d = (node.attrs.dilations as number[] | undefined)?.[0] ?? 1;
      const pads = (node.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
      out = Math.floor((h + pads[0]! + pads[2]! - (d * (k - 1) + 1)) / s) + 1;
    } else if (node.op === 'Resize') {
      const sizes = g.initializers.get(node.inputs[3] ?? '');
      if (!sizes) continue;
      out = int64sOf(sizes)[2]!;
    } else if (!COMPUTE_OPS.has(node.op) && !PASS_THROUGH_OPS.has(node.op)) {
      continue;
    }
    for (const o of node.outputs) heights.set(o, out);
  }
  return heights;
}

class Quantizer {
  private readonly g: GraphIndex;
  private readonly quantized = new Set<OnnxNode>();
  private readonly params = new Map<string, QParams>();
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly qTensors = new Map<string, string>();
  private readonly dqCount = new Map<string, number>();

  constructor(
    private readonly model: OnnxModel,
    private readonly ranges: Ranges,
    private readonly fp32: ReadonlySet<OnnxNode>,
  ) {
    this.g = new GraphIndex(model);
  }

  run(): OnnxModel {
    // In graph order, so int8 flows forward: a node is quantized when an int8 convolution's bytes reach it.
    for (const node of this.model.nodes) if (this.quantizable(node)) this.quantized.add(node);
    for (const input of this.model.inputs) if (this.needsQ(input.name)) this.emitQ(input.name);
    const consumed = new Set(this.model.nodes.flatMap((n) => n.inputs));
    for (const node of this.model.nodes) {
      const q = this.quantized.has(node);
      const inputs = node.inputs.map((input) => {
        if (!input || this.g.initializers.has(input)) return input;
        if (q && this.dataInputs(node).includes(input)) return this.emitDQ(input);
        // A quantized producer's output feeds its Q alone (ORT fuses only then): float readers get a DQ.
        const producer = this.g.producer.get(input);
        if (producer && this.quantized.has(producer)) return this.emitDQ(input);
        return input;
      });
      if (q && node.op === 'Conv') this.quantizeConvWeights(node, inputs);
      this.nodes.push({ ...node, inputs });
      for (const out of node.outputs) if (this.needsQ(out) && consumed.has(out)) this.emitQ(out);
    }
    for (const out of this.model.outputs) {
      const producer = this.g.producer.get(out.name);
      if (producer && this.quantized.has(producer)) throw new Error(`graph output ${out.name} comes straight from a quantized ${producer.op}`);
    }
    const kept = new Set(this.nodes.flatMap((n) => n.inputs));
    return {
      ...this.model,
      nodes: this.nodes,
      initializers: [...this.model.initializers.filter((t) => kept.has(t.name)), ...this.initializers],
    };
  }

  private quantizable(node: OnnxNode): boolean {
    if (!COMPUTE_OPS.has(node.op) && !PASS_THROUGH_OPS.has(node.op)) return false;
    const data = this.dataInputs(node);
    if (data.length === 0 || data.some((t) => this.g.initializers.has(t))) return false;
    if (node.op === 'Conv') return !this.fp32.has(node) && this.g.initializers.has(node.inputs[1] ?? '');
    // Anything else is int8 only where int8 already flows: after an fp32 convolution, a quantized
    // LeakyRelu or Concat would only add a rounding before the next fp32 layer.
    return data.some((t) => {
      const producer = this.g.producer.get(t);
      return producer !== undefined && this.quantized.has(producer);
    });
  }

  /** The activation inputs of a node (shapes, sizes and weights are not quantized as activations). */
  private dataInputs(node: OnnxNode): string[] {
    if (node.op === 'Concat' || node.op === 'Add') return node.inputs.filter((i) => i);
    return [node.inputs[0]!];
  }

  /** A tensor is quantized where it is made when its producer is quantized or a quantized node reads it. */
  private needsQ(tensor: string): boolean {
    const producer = this.g.producer.get(tensor);
    if (producer && this.quantized.has(producer)) return true;
    return this.g.consumersOf(tensor).some((n) => this.quantized.has(n) && this.dataInputs(n).includes(tensor));
  }

  private paramsOf(tensor: string): QParams {
    const known = this.params.get(tensor);
    if (known) return known;
    const producer = this.g.producer.get(tensor);
    const concats = this.g.consumersOf(tensor).filter((n) => n.op === 'Concat' && this.quantized.has(n));
    let p: QParams;
    if (producer && PASS_THROUGH_OPS.has(producer.op) && this.quantized.has(producer)) {
      p = this.paramsOf(producer.inputs[0]!);
    } else if (concats.length === 1) {
      // On the Concat's own grid, QLinearConcat copies the bytes instead of rounding them a second time
      // (measured: 6% less score error near the threshold).
      p = this.paramsOf(concats[0]!.outputs[0]!);
    } else {
      const range = this.ranges[tensor];
      if (!range) throw new Error(`no calibrated range for tensor ${tensor}: the calibration is of another graph (run vigil models calibrate)`);
      p = activationParams(range);
    }
    this.params.set(tensor, p);
    return p;
  }

  private emitQ(tensor: string): void {
    const p = this.paramsOf(tensor);
    const scale = this.constant(tensorOf(`${tensor}_scale`, 'float32', [], Float32Array.of(p.scale)));
    const zp = this.constant(tensorOf(`${tensor}_zero_point`, 'uint8', [], Uint8Array.of(p.zeroPoint)));
    const out = `${tensor}_quantized`;
    this.nodes.push({ op: 'QuantizeLinear', name: `${tensor}_QuantizeLinear`, inputs: [tensor, scale, zp], outputs: [out], attrs: {} });
    this.qTensors.set(tensor, out);
  }

  /** A DequantizeLinear of the tensor for one consumer (a shared one would stop ORT fusing either). */
  private emitDQ(tensor: string): string {
    const q = this.qTensors.get(tensor);
    if (!q) throw new Error(`tensor ${tensor} is read by a quantized node but was not quantized`);
    const k = this.dqCount.get(tensor) ?? 0;
    this.dqCount.set(tensor, k + 1);
    const out = `${tensor}_dequantized${k ? `_${k}` : ''}`;
    this.nodes.push({
      op: 'DequantizeLinear',
      name: `${out}_DequantizeLinear`,
      inputs: [q, `${tensor}_scale`, `${tensor}_zero_point`],
      outputs: [out],
      attrs: {},
    });
    return out;
  }

  private constant(t: OnnxTensor): string {
    this.initializers.push(t);
    return t.name;
  }

  /** Weights int8 per output channel (symmetric, zero point 0); bias int32 at scale s_x·s_w per channel. */
  private quantizeConvWeights(conv: OnnxNode, inputs: string[]): void {
    const wName = conv.inputs[1]!;
    const w = this.g.initializers.get(wName)!;
    const values = floatsOf(w);
    const cout = w.dims[0]!;
    const per = values.length / cout;
    const scales = new Float32Array(cout);
    const q = new Int8Array(values.length);
    for (let c = 0; c < cout; c++) {
      let max = 0;
      for (let i = c * per; i < (c + 1) * per; i++) max = Math.max(max, Math.abs(values[i]!));
      const s = Math.fround(max > 0 ? max / 127 : 1);
      scales[c] = s;
      for (let i = c * per; i < (c + 1) * per; i++) q[i] = clamp(roundHalfEven(values[i]! / s), -127, 127);
    }
    inputs[1] = this.dequantizedConstant(wName, 'int8', w.dims, q, scales);
    const bName = conv.inputs[2];
    if (!bName) return;
    const sx = this.paramsOf(conv.inputs[0]!).scale;
    const bias = floatsOf(this.g.initializers.get(bName)!);
    const bScales = Float32Array.from(scales, (s) => Math.fround(sx * s));
    const bq = Int32Array.from(bias, (b, c) => clamp(roundHalfEven(b / bScales[c]!), -(2 ** 31), 2 ** 31 - 1));
    inputs[2] = this.dequantizedConstant(bName, 'int32', [cout], bq, bScales);
  }

  private dequantizedConstant(base: string, type: 'int8' | 'int32', dims: number[], data: Int8Array | Int32Array, scales: Float32Array): string {
    const n = scales.length;
    const q = this.constant(tensorOf(`${base}_quantized`, type, dims, data));
    const s = this.constant(tensorOf(`${base}_scale`, 'float32', [n], scales));
    const zp = this.constant(tensorOf(`${base}_zero_point`, type, [n], type === 'int8' ? new Int8Array(n) : new Int32Array(n)));
    const out = `${base}_dequantized`;
    this.nodes.push({ op: 'DequantizeLinear', name: `${out}_DequantizeLinear`, inputs: [q, s, zp], outputs: [out], attrs: { axis: 0 } });
    return out;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** ONNX QuantizeLinear's rounding (half to even), so weights round as activations do at run time. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
