// Reads a TensorFlow.js graph model (model.json + weight shards) into plain nodes and constant tensors,
// decoding quantized weights (float16, uint8/uint16 affine) to float32.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type DType = 'float32' | 'int32' | 'bool';

export interface ConstTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { i?: Array<string | number>; s?: string[]; f?: number[] };
  shape?: { dim?: Array<{ size?: string }> };
  tensor?: unknown;
}

export interface TfNode {
  name: string;
  op: string;
  /** Data inputs as "node" or "node:k"; control inputs (^node) are dropped. */
  inputs: string[];
  attr: Record<string, TfAttr>;
}

export interface TfGraph {
  nodes: Map<string, TfNode>;
  consts: Map<string, ConstTensor>;
  /** The signature's inputs and outputs, with ":0" suffixes removed. */
  inputs: Array<{ name: string; shape: number[] }>;
  outputs: string[];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'float16' | 'uint8' | 'uint16'; scale?: number; min?: number };
}

interface ModelJson {
  format?: string;
  modelTopology: { node: Array<{ name: string; op: string; input?: string[]; attr?: Record<string, TfAttr> }> };
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
  signature?: {
    inputs?: Record<string, { name: string; tensorShape?: { dim?: Array<{ size?: string }> } }>;
    outputs?: Record<string, { name: string }>;
  };
}

export function loadTfjsGraph(modelJsonPath: string): TfGraph {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  if (json.format !== 'graph-model') throw new Error(`${modelJsonPath}: not a TensorFlow.js graph model (format ${json.format})`);
  const nodes = new Map<string, TfNode>();
  for (const n of json.modelTopology.node) {
    nodes.set(n.name, { name: n.name, op: n.op, inputs: (n.input ?? []).filter((i) => !i.startsWith('^')), attr: n.attr ?? {} });
  }
  const consts = new Map<string, ConstTensor>();
  const dir = path.dirname(modelJsonPath);
  for (const group of json.weightsManifest) {
    const buffer = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      const { tensor, bytes } = decodeWeight(spec, buffer, offset);
      consts.set(spec.name, tensor);
      offset += bytes;
    }
    if (offset !== buffer.length) {
      throw new Error(`${modelJsonPath}: weights use ${offset} bytes of ${group.paths.join('+')} (${buffer.length} bytes)`);
    }
  }
  const strip = (name: string) => name.replace(/:0$/, '');
  const inputs = Object.values(json.signature?.inputs ?? {}).map((i) => ({
    name: strip(i.name),
    shape: (i.tensorShape?.dim ?? []).map((d) => Number(d.size ?? -1)),
  }));
  const outputs = Object.values(json.signature?.outputs ?? {}).map((o) => strip(o.name));
  return { nodes, consts, inputs, outputs };
}

function decodeWeight(spec: WeightSpec, buffer: Buffer, offset: number): { tensor: ConstTensor; bytes: number } {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  if (spec.dtype === 'int32') {
    const data = new Int32Array(count);
    for (let i = 0; i < count; i++) data[i] = buffer.readInt32LE(offset + 4 * i);
    return { tensor: { dtype: 'int32', shape: spec.shape, data }, bytes: 4 * count };
  }
  if (spec.dtype === 'bool') {
    const data = new Int32Array(count);
    for (let i = 0; i < count; i++) data[i] = buffer[offset + i]!;
    return { tensor: { dtype: 'bool', shape: spec.shape, data }, bytes: count };
  }
  if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name}: unsupported dtype ${spec.dtype}`);
  const data = new Float32Array(count);
  if (!q) {
    for (let i = 0; i < count; i++) data[i] = buffer.readFloatLE(offset + 4 * i);
    return { tensor: { dtype: 'float32', shape: spec.shape, data }, bytes: 4 * count };
  }
  if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) data[i] = halfToFloat(buffer.readUInt16LE(offset + 2 * i));
    return { tensor: { dtype: 'float32', shape: spec.shape, data }, bytes: 2 * count };
  }
  const width = q.dtype === 'uint8' ? 1 : 2;
  for (let i = 0; i < count; i++) {
    const v = width === 1 ? buffer[offset + i]! : buffer.readUInt16LE(offset + 2 * i);
    data[i] = v * (q.scale ?? 1) + (q.min ?? 0);
  }
  return { tensor: { dtype: 'float32', shape: spec.shape, data }, bytes: width * count };
}

/** IEEE 754 binary16 to a JS number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

// --- attribute readers -------------------------------------------------------------------------------

export function attrString(node: TfNode, key: string, fallback?: string): string {
  const v = node.attr[key]?.s;
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${node.op} ${node.name}: missing attribute ${key}`);
  }
  return Buffer.from(v, 'base64').toString('utf8');
}

export function attrInts(node: TfNode, key: string, fallback?: number[]): number[] {
  const v = node.attr[key]?.list?.i;
  if (v === undefined || v.length === 0) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${node.op} ${node.name}: missing attribute ${key}`);
  }
  return v.map(Number);
}

export function attrStrings(node: TfNode, key: string): string[] {
  return (node.attr[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
}

export function attrFloat(node: TfNode, key: string, fallback: number): number {
  return node.attr[key]?.f ?? fallback;
}

export function attrBool(node: TfNode, key: string, fallback: boolean): boolean {
  return node.attr[key]?.b ?? fallback;
}
