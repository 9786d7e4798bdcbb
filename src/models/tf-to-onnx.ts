// Converts a TensorFlow.js graph (NHWC, TF semantics) into an ONNX graph (NCHW convolutions).
//
// Layout: every tensor is carried as an ONNX tensor plus a permutation `perm` such that
// onnx = transpose(tf, perm). A TF Transpose is then only bookkeeping; a convolution asks for its input as
// NCHW (perm [0,3,1,2]) and a Transpose is emitted only when the tensor is not already laid out that way.
// Graphs converted from PyTorch (NanoDet) wrap every convolution in NCHW↔NHWC Transposes: they all vanish.
//
// Constants stay JavaScript arrays until a node needs them, so constant-only subgraphs (SparseToDense,
// Shape, arithmetic on shapes) fold at build time and the static input size bakes into Reshape/Resize sizes.
import { OnnxGraphBuilder, type AttrValue } from './onnx-builder.js';
import {
  broadcastOp,
  broadcastShapes,
  identityPerm,
  inversePerm,
  samePerm,
  scalarOf,
  sizeOf,
  transpose,
} from './ndarray.js';
import { attrBool, attrFloat, attrInts, attrString, attrStrings, type ConstTensor, type TfGraph, type TfNode } from './tfjs-graph.js';

interface TensorValue {
  kind: 'tensor';
  name: string;
  /** The TF (logical) shape. */
  shape: number[];
  perm: number[];
}
interface ConstValue {
  kind: 'const';
  t: ConstTensor;
}
type Value = TensorValue | ConstValue;

const NCHW = [0, 3, 1, 2]; // the ONNX layout of an NHWC tensor

export interface ConvertOptions {
  /** TF node names to expose as outputs; the graph is cut there (e.g. before CenterNet's TopK tail). */
  outputs: string[];
  /**
   * Logical (TF) input shape, when the placeholder's own is not fully known, or to convert a fully
   * convolutional graph at another resolution than the one it was exported at: when the spatial size differs
   * from the declared one, Resize sizes baked as constants are taken as ratios (integer multiples or fractions)
   * of their input's size at the declared resolution and kept as the same ratios, and a Reshape whose constant shape no longer fits has
   * its one size-dependent dimension inferred from the element count.
   */
  inputShape?: number[];
  name: string;
  docString?: string;
}

export interface ConvertResult {
  onnx: Uint8Array;
  input: { name: string; shape: number[] };
  outputs: Array<{ name: string; shape: number[] }>;
  stats: { nodes: number; transposes: number; folded: number };
}

export function convertGraph(graph: TfGraph, options: ConvertOptions): ConvertResult {
  return new Converter(graph, options).run();
}

class Converter {
  private readonly b = new OnnxGraphBuilder();
  private readonly values = new Map<string, Value>();
  private folded = 0;
  private input!: { name: string; shape: number[] };
  /** New / declared input height and width, when `inputShape` changes the declared spatial size. */
  private rescale: [number, number] | undefined;

  constructor(
    private readonly graph: TfGraph,
    private readonly options: ConvertOptions,
  ) {}

  run(): ConvertResult {
    this.b.reserve(this.options.outputs);
    for (const node of this.order()) {
      const inputs = node.inputs.map((ref) => this.value(ref, node));
      const outputs = this.convertNode(node, inputs);
      outputs.forEach((v, k) => this.values.set(k === 0 ? node.name : `${node.name}:${k}`, v));
    }
    const outputs = this.options.outputs.map((name) => {
      const v = this.value(name, undefined);
      if (v.kind === 'const') throw new Error(`output ${name} is a constant`);
      const plain = this.toPerm(v, identityPerm(v.shape.length));
      this.b.output(plain.name, name, v.shape);
      return { name, shape: v.shape };
    });
    return {
      onnx: this.b.serialize(this.options.name, this.options.docString ?? ''),
      input: this.input,
      outputs,
      stats: { nodes: this.b.nodeCount, transposes: this.b.countOps('Transpose'), folded: this.folded },
    };
  }

  /** The nodes the outputs depend on, each after its inputs (the TFJS file is not in that order). */
  private order(): TfNode[] {
    const done = new Set<string>();
    const result: TfNode[] = [];
    const stack: Array<{ name: string; expanded: boolean }> = this.options.outputs.map((o) => ({ name: o.split(':')[0]!, expanded: false }));
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (done.has(top.name)) continue;
      const node = this.graph.nodes.get(top.name);
      if (!node) throw new Error(`graph has no node ${top.name}`);
      if (top.expanded) {
        done.add(top.name);
        result.push(node);
        continue;
      }
      stack.push({ name: top.name, expanded: true });
      for (const input of node.inputs) {
        const dep = input.split(':')[0]!;
        if (!done.has(dep)) stack.push({ name: dep, expanded: false });
      }
    }
    return result;
  }

  private value(ref: string, consumer: TfNode | undefined): Value {
    const [name, index = '0'] = ref.split(':');
    const v = this.values.get(index === '0' ? name! : `${name}:${index}`);
    if (!v) throw new Error(`${consumer ? `${consumer.op} ${consumer.name}` : 'output'}: input ${ref} was not converted`);
    return v;
  }

  // --- layout and constants ----------------------------------------------------------------------------

  private toPerm(v: TensorValue, perm: number[]): TensorValue {
    if (samePerm(v.perm, perm)) return v;
    // onnx = transpose(tf, p); wanted = transpose(tf, t) = transpose(onnx, s) with s[i] = p⁻¹[t[i]].
    const inv = inversePerm(v.perm);
    const [name] = this.b.node('Transpose', [v.name], { perm: perm.map((a) => inv[a]!) }, 1, `${v.name}/T`);
    return { kind: 'tensor', name: name!, shape: v.shape, perm };
  }

  /** A constant as an initializer laid out to broadcast against a tensor of `rank` carried in `perm`. */
  private constFor(t: ConstTensor, rank: number, perm: number[], base: string): string {
    const data = t.dtype === 'float32' ? t : { ...t, dtype: 'float32' as const, data: Float32Array.from(t.data) };
    if (sizeOf(data.shape) === 1) return this.b.floatInitializer(base, [], data.data as Float32Array);
    // Broadcasting aligns trailing axes, so pad to the tensor's rank before permuting.
    const padded = { ...data, shape: [...new Array<number>(rank - data.shape.length).fill(1), ...data.shape] };
    const laid = transpose(padded, perm);
    return this.b.floatInitializer(base, laid.shape, laid.data as Float32Array);
  }

  private tensorOf(v: Value, what: string, node: TfNode): TensorValue {
    if (v.kind !== 'tensor') throw new Error(`${node.op} ${node.name}: ${what} must not be a constant`);
    return v;
  }

  private constOf(v: Value | undefined, what: string, node: TfNode): ConstTensor {
    if (!v || v.kind !== 'const') throw new Error(`${node.op} ${node.name}: ${what} must be a constant`);
    return v.t;
  }

  private emit(node: TfNode, op: string, inputs: string[], attrs: Record<string, AttrValue>, shape: number[], perm: number[]): TensorValue {
    const [name] = this.b.node(op, inputs, attrs, 1, node.name);
    return { kind: 'tensor', name: name!, shape, perm };
  }

  // --- ops --------------------------------------------------------------------------------------------

  private convertNode(node: TfNode, inputs: Value[]): Value[] {
    if (node.op === 'Const') {
      const t = this.graph.consts.get(node.name);
      if (!t) throw new Error(`Const ${node.name} has no weights in the manifest`);
      return [{ kind: 'const', t }];
    }
    if (node.op === 'Placeholder') return [this.placeholder(node)];
    if (inputs.length > 0 && inputs.every((v) => v.kind === 'const')) {
      const folded = foldConstants(node, inputs.map((v) => (v as ConstValue).t));
      this.folded++;
      return folded.map((t) => ({ kind: 'const', t }));
    }
    if (node.op === 'Shape') {
      // Shapes are static here, so Shape (and all arithmetic on it) folds to constants.
      const x = this.tensorOf(inputs[0]!, 'input', node);
      this.folded++;
      return [{ kind: 'const', t: { dtype: 'int32', shape: [x.shape.length], data: Int32Array.from(x.shape) } }];
    }
    switch (node.op) {
      case 'Identity':
      case 'StopGradient':
        return [inputs[0]!];
      case 'Cast':
        return [this.cast(node, inputs)];
      case 'Transpose':
        return [this.transposeOp(node, inputs)];
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return [this.conv(node, inputs)];
      case 'MaxPool':
      case 'AvgPool':
        return [this.pool(node, inputs)];
      case 'Add':
      case 'AddV2':
      case 'BiasAdd':
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
      case 'Maximum':
      case 'Minimum':
        return [this.binary(node, inputs)];
      case 'Relu':
      case 'Relu6':
      case 'Sigmoid':
      case 'Tanh':
      case 'LeakyRelu':
      case 'Elu':
      case 'Exp':
      case 'Neg':
      case 'Abs':
      case 'Sqrt':
        return [this.unary(node, inputs)];
      case 'Pad':
      case 'PadV2':
        return [this.pad(node, inputs)];
      case 'ConcatV2':
        return [this.concat(node, inputs)];
      case 'Mean':
        return [this.mean(node, inputs)];
      case 'ResizeBilinear':
      case 'ResizeNearestNeighbor':
        return [this.resize(node, inputs)];
      case 'SplitV':
      case 'Split':
        return this.split(node, inputs);
      case 'Reshape':
      case 'Squeeze':
      case 'ExpandDims':
        return [this.reshape(node, inputs)];
      default:
        throw new Error(`${node.name}: TF op ${node.op} is not supported by vigil's converter`);
    }
  }

  private placeholder(node: TfNode): TensorValue {
    const declared = (node.attr.shape?.shape?.dim ?? []).map((d) => Number(d.size ?? -1));
    const shape = this.options.inputShape ?? declared.map((d) => (d < 0 ? 1 : d));
    if (shape.length !== 4) throw new Error(`input ${node.name}: expected a 4-D image input, got [${shape}]`);
    // The ONNX input is always planar (N,C,H,W): an NHWC placeholder is that same tensor with perm NCHW.
    const nhwc = shape[3] === 3 && shape[1] !== 3;
    if (declared.length === 4) {
      const [ah, aw] = nhwc ? [1, 2] : [2, 3];
      const [dh, dw] = [declared[ah]!, declared[aw]!];
      if (dh > 0 && dw > 0 && (dh !== shape[ah] || dw !== shape[aw])) this.rescale = [shape[ah]! / dh, shape[aw]! / dw];
    }
    const onnxShape = nhwc ? NCHW.map((a) => shape[a]!) : shape;
    const name = node.name.replace(/:0$/, '');
    this.b.addInput(name, onnxShape);
    this.input = { name, shape: onnxShape };
    return { kind: 'tensor', name, shape, perm: nhwc ? NCHW : identityPerm(4) };
  }

  private cast(node: TfNode, inputs: Value[]): Value {
    const to = node.attr.DstT?.type;
    if (to !== 'DT_FLOAT') throw new Error(`${node.name}: Cast of a tensor to ${to} is not supported`);
    return inputs[0]!;
  }

  private transposeOp(node: TfNode, inputs: Value[]): TensorValue {
    const x = this.tensorOf(inputs[0]!, 'input', node);
    const q = Array.from(this.constOf(inputs[1], 'perm', node).data);
    // result = transpose(tf, q); its ONNX tensor is still x's: result perm r[j] = q⁻¹[p[j]].
    const qInv = inversePerm(q);
    return { kind: 'tensor', name: x.name, shape: q.map((a) => x.shape[a]!), perm: x.perm.map((a) => qInv[a]!) };
  }

  private conv(node: TfNode, inputs: Value[]): TensorValue {
    if (attrString(node, 'data_format', 'NHWC') !== 'NHWC') throw new Error(`${node.name}: only NHWC convolutions are supported`);
    const depthwise = node.op.includes('Depthwise');
    const x = this.toPerm(this.tensorOf(inputs[0]!, 'input', node), NCHW);
    const filter = this.constOf(inputs[1], 'filter', node);
    const [kh, kw, cin, cx] = filter.shape as [number, number, number, number];
    const [, sh, sw] = attrInts(node, 'strides');
    const [, dh, dw] = attrInts(node, 'dilations', [1, 1, 1, 1]);
    const [n, h, w] = x.shape as [number, number, number, number];
    const { pads, outH, outW } = convPads(node, h, w, kh, kw, sh!, sw!, dh!, dw!);
    let weights: ConstTensor;
    let group = 1;
    let cout = cx;
    if (depthwise) {
      // [kh, kw, cin, mult] → [cin·mult, 1, kh, kw]: output channel c·mult + m, as TF orders them.
      const t = transpose(filter, [2, 3, 0, 1]);
      weights = { ...t, shape: [cin * cx, 1, kh, kw] };
      group = cin;
      cout = cin * cx;
    } else {
      weights = transpose(filter, [3, 2, 0, 1]); // HWIO → OIHW
    }
    const conv: string[] = [x.name, this.b.floatInitializer(`${node.name}/W`, weights.shape, weights.data as Float32Array)];
    const fused = node.op.startsWith('_Fused') || node.op.startsWith('Fused') ? attrStrings(node, 'fused_ops') : [];
    if (fused.length > 0) {
      if (fused[0] !== 'BiasAdd') throw new Error(`${node.name}: fused ops ${fused.join('+')} are not supported`);
      const bias = this.constOf(inputs[2], 'bias', node);
      conv.push(this.b.floatInitializer(`${node.name}/B`, [cout], Float32Array.from(bias.data)));
    }
    const attrs = { kernel_shape: [kh, kw], strides: [sh!, sw!], dilations: [dh!, dw!], pads, group };
    const out = this.emit(node, 'Conv', conv, attrs, [n, outH, outW, cout], NCHW);
    const activation = fused[1];
    if (activation === undefined) return out;
    const alpha = attrFloat(node, 'leakyrelu_alpha', 0.2);
    return this.activate(node, activation, out, alpha);
  }

  private activate(node: TfNode, op: string, x: TensorValue, alpha: number): TensorValue {
    switch (op) {
      case 'Relu':
        return this.emit(node, 'Relu', [x.name], {}, x.shape, x.perm);
      case 'Relu6': {
        const lo = this.b.floatInitializer(`${node.name}/min`, [], Float32Array.of(0));
        const hi = this.b.floatInitializer(`${node.name}/max`, [], Float32Array.of(6));
        return this.emit(node, 'Clip', [x.name, lo, hi], {}, x.shape, x.perm);
      }
      case 'LeakyRelu':
        return this.emit(node, 'LeakyRelu', [x.name], { alpha: { float: alpha } }, x.shape, x.perm);
      case 'Elu':
        return this.emit(node, 'Elu', [x.name], {}, x.shape, x.perm);
      case 'Sigmoid':
      case 'Tanh':
      case 'Exp':
      case 'Neg':
      case 'Abs':
      case 'Sqrt':
        return this.emit(node, op, [x.name], {}, x.shape, x.perm);
      default:
        throw new Error(`${node.name}: activation ${op} is not supported`);
    }
  }

  private unary(node: TfNode, inputs: Value[]): TensorValue {
    const x = this.tensorOf(inputs[0]!, 'input', node);
    return this.activate(node, node.op, x, attrFloat(node, 'alpha', 0.2));
  }

  private pool(node: TfNode, inputs: Value[]): TensorValue {
    if (attrString(node, 'data_format', 'NHWC') !== 'NHWC') throw new Error(`${node.name}: only NHWC pooling is supported`);
    const x = this.toPerm(this.tensorOf(inputs[0]!, 'input', node), NCHW);
    const [, kh, kw] = attrInts(node, 'ksize');
    const [, sh, sw] = attrInts(node, 'strides');
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const { pads, outH, outW } = convPads(node, h, w, kh!, kw!, sh!, sw!, 1, 1);
    const op = node.op === 'MaxPool' ? 'MaxPool' : 'AveragePool';
    // TF's SAME average pooling divides by the real (unpadded) count, as ONNX's count_include_pad=0 does.
    return this.emit(node, op, [x.name], { kernel_shape: [kh!, kw!], strides: [sh!, sw!], pads }, [n, outH, outW, c], NCHW);
  }

  private binary(node: TfNode, inputs: Value[]): TensorValue {
    const [a, b] = inputs as [Value, Value];
    const shape = broadcastShapes(shapeOf(a), shapeOf(b));
    const rank = shape.length;
    // Follow an operand that is already permuted (a convolution's output) so no Transpose is needed.
    const full = [a, b].filter((v): v is TensorValue => v.kind === 'tensor' && v.shape.length === rank);
    const lead = full.find((v) => !samePerm(v.perm, identityPerm(rank))) ?? full[0];
    const perm = lead ? lead.perm : identityPerm(rank);
    const operand = (v: Value, i: number): string => {
      if (v.kind === 'const') return this.constFor(v.t, rank, perm, `${node.name}/c${i}`);
      if (v.shape.length === rank) return this.toPerm(v, perm).name;
      // A lower-rank tensor broadcasts by trailing axes only in TF's own layout.
      if (samePerm(perm, identityPerm(rank)) && samePerm(v.perm, identityPerm(v.shape.length))) return v.name;
      throw new Error(`${node.name}: broadcasting a rank-${v.shape.length} tensor against a permuted rank-${rank} one is not supported`);
    };
    const op = { Add: 'Add', AddV2: 'Add', BiasAdd: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Maximum: 'Max', Minimum: 'Min' }[
      node.op
    ]!;
    return this.emit(node, op, [operand(a, 0), operand(b, 1)], {}, shape, perm);
  }

  private pad(node: TfNode, inputs: Value[]): TensorValue {
    const x = this.tensorOf(inputs[0]!, 'input', node);
    const paddings = this.constOf(inputs[1], 'paddings', node);
    const rank = x.shape.length;
    const before = x.perm.map((a) => paddings.data[2 * a]!);
    const after = x.perm.map((a) => paddings.data[2 * a + 1]!);
    const value = node.op === 'PadV2' ? scalarOf(this.constOf(inputs[2], 'constant_values', node)) : 0;
    const padsName = this.b.int64Initializer(`${node.name}/pads`, [...before, ...after]);
    const valueName = this.b.floatInitializer(`${node.name}/value`, [], Float32Array.of(value));
    const shape = x.shape.map((d, a) => d + paddings.data[2 * a]! + paddings.data[2 * a + 1]!);
    if (rank !== x.perm.length) throw new Error(`${node.name}: bad pad rank`);
    return this.emit(node, 'Pad', [x.name, padsName, valueName], { mode: 'constant' }, shape, x.perm);
  }

  private concat(node: TfNode, inputs: Value[]): TensorValue {
    const parts = inputs.slice(0, -1);
    const rank = shapeOf(parts[0]!).length;
    const axis = normaliseAxis(scalarOf(this.constOf(inputs[inputs.length - 1], 'axis', node)), rank);
    const lead = parts.find((v): v is TensorValue => v.kind === 'tensor');
    const perm = lead!.perm;
    const names = parts.map((v, i) =>
      v.kind === 'const' ? this.b.floatInitializer(`${node.name}/c${i}`, ...laidOut(v.t, perm)) : this.toPerm(v, perm).name,
    );
    const shape = [...shapeOf(parts[0]!)];
    shape[axis] = parts.reduce((sum, v) => sum + shapeOf(v)[axis]!, 0);
    return this.emit(node, 'Concat', names, { axis: inversePerm(perm)[axis]! }, shape, perm);
  }

  private mean(node: TfNode, inputs: Value[]): TensorValue {
    let x = this.tensorOf(inputs[0]!, 'input', node);
    const rank = x.shape.length;
    const axes = Array.from(this.constOf(inputs[1], 'axes', node).data).map((a) => normaliseAxis(a, rank));
    const keep = attrBool(node, 'keep_dims', false);
    if (!keep) x = this.toPerm(x, identityPerm(rank));
    const inv = inversePerm(x.perm);
    const shape = keep ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : x.shape.filter((_, a) => !axes.includes(a));
    const perm = keep ? x.perm : identityPerm(shape.length);
    return this.emit(node, 'ReduceMean', [x.name], { axes: axes.map((a) => inv[a]!), keepdims: keep ? 1 : 0 }, shape, perm);
  }

  private resize(node: TfNode, inputs: Value[]): TensorValue {
    const x = this.toPerm(this.tensorOf(inputs[0]!, 'input', node), NCHW);
    const size = Array.from(this.constOf(inputs[1], 'size', node).data) as [number, number];
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const [outH, outW] = this.rescale ? [rescaledSize(node, 'height', h, size[0], this.rescale[0]), rescaledSize(node, 'width', w, size[1], this.rescale[1])] : size;
    const alignCorners = attrBool(node, 'align_corners', false);
    const halfPixel = attrBool(node, 'half_pixel_centers', false);
    const bilinear = node.op === 'ResizeBilinear';
    const mode = alignCorners ? 'align_corners' : halfPixel ? (bilinear ? 'half_pixel' : 'tf_half_pixel_for_nn') : 'asymmetric';
    const sizes = this.b.int64Initializer(`${node.name}/sizes`, [n, c, outH, outW]);
    const attrs: Record<string, AttrValue> = { mode: bilinear ? 'linear' : 'nearest', coordinate_transformation_mode: mode };
    if (!bilinear) attrs.nearest_mode = alignCorners ? 'round_prefer_ceil' : 'floor';
    return this.emit(node, 'Resize', [x.name, '', '', sizes], attrs, [n, outH, outW, c], NCHW);
  }

  private split(node: TfNode, inputs: Value[]): TensorValue[] {
    const isV = node.op === 'SplitV';
    const x = this.tensorOf(isV ? inputs[0]! : inputs[1]!, 'input', node);
    const rank = x.shape.length;
    const axis = normaliseAxis(scalarOf(this.constOf(isV ? inputs[2] : inputs[0], 'axis', node)), rank);
    const count = Number(node.attr.num_split?.i ?? 1);
    let sizes: number[];
    if (isV) {
      sizes = Array.from(this.constOf(inputs[1], 'size_splits', node).data);
      const known = sizes.filter((s) => s >= 0).reduce((a, b) => a + b, 0);
      sizes = sizes.map((s) => (s < 0 ? x.shape[axis]! - known : s));
    } else {
      sizes = new Array<number>(count).fill(x.shape[axis]! / count);
    }
    const splitName = this.b.int64Initializer(`${node.name}/split`, sizes);
    const names = this.b.node('Split', [x.name, splitName], { axis: inversePerm(x.perm)[axis]! }, sizes.length, node.name);
    return names.map((name, i) => ({ kind: 'tensor', name, shape: x.shape.map((d, a) => (a === axis ? sizes[i]! : d)), perm: x.perm }));
  }

  private reshape(node: TfNode, inputs: Value[]): TensorValue {
    const x = this.toPerm(this.tensorOf(inputs[0]!, 'input', node), identityPerm(this.tensorOf(inputs[0]!, 'input', node).shape.length));
    const shape = reshapeTarget(node, x.shape, inputs[1]?.kind === 'const' ? inputs[1].t : undefined, this.rescale !== undefined);
    const shapeName = this.b.int64Initializer(`${node.name}/shape`, shape);
    return this.emit(node, 'Reshape', [x.name, shapeName], {}, shape, identityPerm(shape.length));
  }
}

// --- shapes and padding ---------------------------------------------------------------------------------

function shapeOf(v: Value): number[] {
  return v.kind === 'const' ? v.t.shape : v.shape;
}

function laidOut(t: ConstTensor, perm: number[]): [number[], Float32Array] {
  const laid = transpose(t, perm);
  return [laid.shape, Float32Array.from(laid.data)];
}

function normaliseAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** ONNX pads [top, left, bottom, right] and output size for TF's VALID / SAME / EXPLICIT padding. */
function convPads(node: TfNode, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number) {
  const padding = attrString(node, 'padding', 'VALID');
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  let top = 0, bottom = 0, left = 0, right = 0;
  if (padding === 'SAME') {
    // TF puts the odd pixel of padding after (bottom/right): asymmetric for stride 2 on even sizes.
    const totalH = Math.max((Math.ceil(h / sh) - 1) * sh + ekh - h, 0);
    const totalW = Math.max((Math.ceil(w / sw) - 1) * sw + ekw - w, 0);
    top = Math.floor(totalH / 2);
    bottom = totalH - top;
    left = Math.floor(totalW / 2);
    right = totalW - left;
  } else if (padding === 'EXPLICIT') {
    const p = attrInts(node, 'explicit_paddings');
    [top, bottom, left, right] = [p[2]!, p[3]!, p[4]!, p[5]!];
  } else if (padding !== 'VALID') {
    throw new Error(`${node.name}: padding ${padding} is not supported`);
  }
  const outH = Math.floor((h + top + bottom - ekh) / sh) + 1;
  const outW = Math.floor((w + left + right - ekw) / sw) + 1;
  return { pads: [top, left, bottom, right], outH, outW };
}

/**
 * A Resize's constant output size along one axis, for an input converted at another resolution than the
 * declared one: the constant is a ratio of the input's size at the declared resolution (`size / scale`), an
 * integer multiple for upsampling or an integer fraction for downsampling (PAN: 52 to 26), and the same ratio
 * of the input's size now.
 */
function rescaledSize(node: TfNode, axis: string, size: number, baked: number, scale: number): number {
  const near = (v: number) => Math.abs(v - Math.round(v)) < 1e-6;
  const original = size / scale;
  const ratio = baked / original;
  const out = size * ratio;
  if (!near(original) || !(near(ratio) || near(1 / ratio)) || !near(out) || Math.round(out) < 1) {
    throw new Error(
      `${node.op} ${node.name}: its ${axis} is ${baked} for an input of ${original} at the graph's declared resolution, and ` +
        `${baked}/${original} of ${size} at the new one is not a whole number of pixels: it cannot be converted at this input size`,
    );
  }
  return Math.round(out);
}

/**
 * A Reshape's constant shape that no longer fits the element count because the input size changed: the one
 * dimension that does not appear in the input's shape depends on the resolution and is inferred.
 */
function refitShape(node: TfNode, inShape: number[], target: number[]): number[] {
  const unmatched = [...inShape];
  const free: number[] = [];
  target.forEach((d, i) => {
    const k = unmatched.indexOf(d);
    if (k >= 0) unmatched.splice(k, 1);
    else if (d !== 1) free.push(i);
  });
  if (free.length !== 1) {
    throw new Error(
      `${node.name}: Reshape to the constant [${target}] does not fit [${inShape}] at the new input size, and ` +
        (free.length === 0 ? 'no dimension' : `${free.length} dimensions (${free.map((i) => target[i]).join(', ')})`) +
        ' could be the one that depends on it',
    );
  }
  const rest = sizeOf(target.filter((_, i) => i !== free[0]));
  const total = sizeOf(inShape);
  if (total % rest !== 0) throw new Error(`${node.name}: cannot reshape [${inShape}] to [${target}] at the new input size`);
  return target.map((d, i) => (i === free[0] ? total / rest : d));
}

function reshapeTarget(node: TfNode, inShape: number[], shapeConst: ConstTensor | undefined, rescaled = false): number[] {
  const total = sizeOf(inShape);
  let target: number[];
  if (node.op === 'Reshape') {
    if (!shapeConst) throw new Error(`${node.name}: Reshape needs a constant shape`);
    target = Array.from(shapeConst.data);
  } else if (node.op === 'Squeeze') {
    const dims = (node.attr.squeeze_dims?.list?.i ?? node.attr.axis?.list?.i ?? []).map((a) => normaliseAxis(Number(a), inShape.length));
    target = inShape.filter((d, a) => (dims.length ? !dims.includes(a) : d !== 1));
  } else {
    const axis = scalarOf(shapeConst!);
    const at = axis < 0 ? inShape.length + 1 + axis : axis;
    target = [...inShape.slice(0, at), 1, ...inShape.slice(at)];
  }
  const unknown = target.indexOf(-1);
  if (unknown >= 0) target[unknown] = total / sizeOf(target.filter((d) => d !== -1));
  else if (rescaled && node.op === 'Reshape' && sizeOf(target) !== total) target = refitShape(node, inShape, target);
  if (sizeOf(target) !== total) throw new Error(`${node.name}: cannot reshape [${inShape}] to [${target}]`);
  return target;
}

// --- constant folding -----------------------------------------------------------------------------------

const INT_OPS: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => x + y,
  AddV2: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  RealDiv: (x, y) => x / y,
  FloorDiv: (x, y) => Math.floor(x / y),
  FloorMod: (x, y) => ((x % y) + y) % y,
  Maximum: Math.max,
  Minimum: Math.min,
};

/** Evaluates a node whose inputs are all constants. */
export function foldConstants(node: TfNode, inputs: ConstTensor[]): ConstTensor[] {
  const [a, b] = inputs;
  const binary = INT_OPS[node.op];
  if (binary) return [broadcastOp(a!, b!, binary)];
  switch (node.op) {
    case 'Identity':
      return [a!];
    case 'Cast': {
      const to = node.attr.DstT?.type;
      const data = to === 'DT_FLOAT' ? Float32Array.from(a!.data) : Int32Array.from(a!.data, (v) => Math.trunc(v));
      return [{ dtype: to === 'DT_FLOAT' ? 'float32' : 'int32', shape: a!.shape, data }];
    }
    case 'Transpose':
      return [transpose(a!, Array.from(b!.data))];
    case 'Reshape':
    case 'ExpandDims':
    case 'Squeeze':
      return [{ ...a!, shape: reshapeTarget(node, a!.shape, b) }];
    case 'Pack': {
      const axis = Number(node.attr.axis?.i ?? 0);
      if (axis !== 0 || inputs.some((t) => t.data.length !== 1)) throw new Error(`${node.name}: only packing scalars is folded`);
      return [{ dtype: a!.dtype, shape: [inputs.length], data: Int32Array.from(inputs.map((t) => t.data[0]!)) }];
    }
    case 'ConcatV2': {
      const parts = inputs.slice(0, -1);
      if (parts.some((t) => t.shape.length !== 1)) throw new Error(`${node.name}: only 1-D constant concat is folded`);
      const data = parts.flatMap((t) => Array.from(t.data));
      return [{ dtype: a!.dtype, shape: [data.length], data: a!.dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data) }];
    }
    case 'SparseToDense': {
      // SparseToDense(indices, output_shape, values, default): the NanoDet export builds shape constants with it.
      const [indices, outShape, values, fill] = inputs as [ConstTensor, ConstTensor, ConstTensor, ConstTensor];
      const shape = Array.from(outShape.data);
      const data = new Int32Array(sizeOf(shape)).fill(scalarOf(fill));
      const rank = shape.length;
      const count = indices.shape[0] ?? 0;
      for (let i = 0; i < count; i++) {
        let flat = 0;
        for (let k = 0; k < rank; k++) flat = flat * shape[k]! + indices.data[i * rank + k]!;
        data[flat] = values.data.length === 1 ? values.data[0]! : values.data[i]!;
      }
      return [{ dtype: values.dtype === 'float32' ? 'float32' : 'int32', shape, data: values.dtype === 'float32' ? Float32Array.from(data) : data }];
    }
    case 'GatherV2': {
      const axis = scalarOf(inputs[2]!);
      if (axis !== 0 || a!.shape.length !== 1) throw new Error(`${node.name}: only 1-D constant gather is folded`);
      const data = Array.from(b!.data, (i) => a!.data[i]!);
      return [{ dtype: a!.dtype, shape: b!.shape, data: a!.dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data) }];
    }
    case 'StridedSlice': {
      const [, begin, end, strides] = inputs as [ConstTensor, ConstTensor, ConstTensor, ConstTensor];
      if (a!.shape.length !== 1 || Number(node.attr.ellipsis_mask?.i ?? 0) || Number(node.attr.new_axis_mask?.i ?? 0)) {
        throw new Error(`${node.name}: only simple 1-D constant strided slices are folded`);
      }
      const n = a!.shape[0]!;
      const step = strides.data[0]!;
      const norm = (v: number) => (v < 0 ? v + n : v);
      const start = Number(node.attr.begin_mask?.i ?? 0) & 1 ? (step > 0 ? 0 : n - 1) : norm(begin.data[0]!);
      const stop = Number(node.attr.end_mask?.i ?? 0) & 1 ? (step > 0 ? n : -1) : norm(end.data[0]!);
      const data: number[] = [];
      for (let i = start; step > 0 ? i < stop : i > stop; i += step) data.push(a!.data[i]!);
      const shrink = Number(node.attr.shrink_axis_mask?.i ?? 0) & 1;
      return [{ dtype: a!.dtype, shape: shrink ? [] : [data.length], data: a!.dtype === 'float32' ? Float32Array.from(data) : Int32Array.from(data) }];
    }
    default:
      throw new Error(`${node.name}: cannot fold constant op ${node.op}`);
  }
}
