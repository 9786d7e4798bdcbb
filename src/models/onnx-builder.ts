// Builds ONNX graphs and reads them back, as protobuf: the only module that knows onnx-proto. Graphs are held
// as plain values (OnnxModel) so the converter can write one and the quantizer can rewrite one.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const AttributeType = onnx.AttributeProto.AttributeType;

export const OPSET = 13;

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

export type ElemType = 'float32' | 'uint8' | 'int8' | 'int32' | 'int64';
const ELEM_CODE: Record<ElemType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7 };

/** A constant tensor, its values little-endian in `raw` (as ONNX stores them). */
export interface OnnxTensor {
  name: string;
  type: ElemType;
  dims: number[];
  raw: Uint8Array;
}

export interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A float graph input or output; dims of -1 are dynamic, no shape means unknown. */
export interface OnnxValue {
  name: string;
  shape?: number[];
}

export interface OnnxModel {
  graphName: string;
  docString: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

type TypedArray = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export function tensorOf(name: string, type: ElemType, dims: number[], data: TypedArray): OnnxTensor {
  return { name, type, dims, raw: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

/** A float tensor's values (copied: protobuf bytes need not be 4-byte aligned). */
export function floatsOf(t: OnnxTensor): Float32Array {
  if (t.type !== 'float32') throw new Error(`tensor ${t.name} is ${t.type}, not float32`);
  return new Float32Array(new Uint8Array(t.raw).buffer);
}

export function int64sOf(t: OnnxTensor): number[] {
  if (t.type !== 'int64') throw new Error(`tensor ${t.name} is ${t.type}, not int64`);
  const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  return Array.from({ length: t.raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
}

export class OnnxGraphBuilder {
  private nodes: OnnxNode[] = [];
  private initializers: OnnxTensor[] = [];
  private inputs: OnnxValue[] = [];
  private outputs: OnnxValue[] = [];
  private used = new Set<string>();
  private reserved = new Set<string>();

  /** Keeps names free for graph outputs (TF output nodes would otherwise give their names to inner tensors). */
  reserve(names: readonly string[]): void {
    for (const n of names) this.reserved.add(n);
  }

  /** A tensor name not used before, readable in a model viewer. */
  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_');
    let name = clean;
    for (let i = 1; this.used.has(name) || this.reserved.has(name); i++) name = `${clean}__${i}`;
    this.used.add(name);
    return name;
  }

  addInput(name: string, shape: number[]): void {
    this.used.add(name);
    this.inputs.push({ name, shape });
  }

  floatInitializer(base: string, shape: number[], data: Float32Array): string {
    const name = this.unique(base);
    this.initializers.push(tensorOf(name, 'float32', shape, data));
    return name;
  }

  int64Initializer(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    this.initializers.push(tensorOf(name, 'int64', [values.length], BigInt64Array.from(values, (v) => BigInt(v))));
    return name;
  }

  /** Adds a node; returns its output names (one fresh name per output). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputCount = 1, base = op): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.unique(outputCount > 1 ? `${base}:${i}` : base));
    this.nodes.push({ op, name: this.unique(`${base}#node`), inputs, outputs, attrs });
    return outputs;
  }

  /** Publishes a tensor as a graph output under an exact name (an Identity that ORT optimises away). */
  output(tensor: string, name: string, shape: number[]): void {
    if (this.used.has(name)) throw new Error(`output name ${name} is already taken`);
    this.used.add(name);
    this.nodes.push({ op: 'Identity', name: this.unique(`${name}#node`), inputs: [tensor], outputs: [name], attrs: {} });
    this.outputs.push({ name, shape });
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  countOps(op: string): number {
    return this.nodes.filter((n) => n.op === op).length;
  }

  serialize(graphName: string, docString: string): Uint8Array {
    return encodeModel({ graphName, docString, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs });
  }
}

export function encodeModel(m: OnnxModel): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'vigil',
    docString: m.docString,
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: m.graphName,
      node: m.nodes.map((n) => ({
        opType: n.op,
        name: n.name,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([name, value]) => attribute(name, value)),
      })),
      initializer: m.initializers.map((t) => ({ name: t.name, dims: t.dims, dataType: ELEM_CODE[t.type], rawData: t.raw })),
      input: m.inputs.map(valueInfo),
      output: m.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads a model written by encodeModel (or any opset-13 graph of float inputs and raw-data initializers). */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('ONNX model has no graph');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain)?.version;
  if (opset !== undefined && num(opset) !== OPSET) throw new Error(`ONNX model is opset ${num(opset)}; vigil reads opset ${OPSET}`);
  return {
    graphName: graph.name ?? '',
    docString: model.docString ?? '',
    nodes: (graph.node ?? []).map((n) => ({
      op: n.opType ?? '',
      name: n.name ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs: Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', attributeValue(a)])),
    })),
    initializers: (graph.initializer ?? []).map(decodeTensor),
    inputs: (graph.input ?? []).map(decodeValue),
    outputs: (graph.output ?? []).map(decodeValue),
  };
}

const num = (v: number | { toNumber(): number } | null | undefined): number => (typeof v === 'number' ? v : v ? v.toNumber() : 0);

function decodeTensor(t: onnxProto.onnx.ITensorProto): OnnxTensor {
  const type = (Object.keys(ELEM_CODE) as ElemType[]).find((k) => ELEM_CODE[k] === t.dataType);
  const name = t.name ?? '';
  if (!type) throw new Error(`initializer ${name}: ONNX data type ${t.dataType} is not supported`);
  const dims = (t.dims ?? []).map(num);
  if (t.rawData && t.rawData.length > 0) return { name, type, dims, raw: new Uint8Array(t.rawData) };
  if (type === 'float32') return tensorOf(name, type, dims, Float32Array.from(t.floatData ?? []));
  if (type === 'int64') return tensorOf(name, type, dims, BigInt64Array.from(t.int64Data ?? [], (v) => BigInt(num(v))));
  throw new Error(`initializer ${name}: only raw data is supported for ${type}`);
}

function decodeValue(v: onnxProto.onnx.IValueInfoProto): OnnxValue {
  const tensor = v.type?.tensorType;
  if (tensor?.elemType !== ELEM_CODE.float32) throw new Error(`graph input or output ${v.name}: only float tensors are supported`);
  const dims = tensor.shape?.dim;
  return { name: v.name ?? '', ...(dims ? { shape: dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null ? num(d.dimValue) : -1)) } : {}) };
}

function attributeValue(a: onnxProto.onnx.IAttributeProto): AttrValue {
  switch (a.type) {
    case AttributeType.INT:
      return num(a.i);
    case AttributeType.INTS:
      return (a.ints ?? []).map(num);
    case AttributeType.FLOAT:
      return { float: a.f ?? 0 };
    case AttributeType.FLOATS:
      return { floats: [...(a.floats ?? [])] };
    case AttributeType.STRING:
      return Buffer.from(a.s ?? new Uint8Array()).toString();
    default:
      throw new Error(`attribute ${a.name}: ONNX attribute type ${a.type} is not supported`);
  }
}

function valueInfo(v: OnnxValue): onnxProto.onnx.IValueInfoProto {
  const shape = v.shape ? { shape: { dim: v.shape.map((d) => (d >= 0 ? { dimValue: d } : { dimParam: 'N' })) } } : {};
  return { name: v.name, type: { tensorType: { elemType: ELEM_CODE.float32, ...shape } } };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}
