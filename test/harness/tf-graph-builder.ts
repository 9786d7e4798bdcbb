// Builds small TensorFlow.js graph models in memory (model.json + weights), so converter tests can run the
// same graph in @tensorflow/tfjs (the reference) and, converted, in onnxruntime.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Attr = Record<string, unknown>;

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

export const ints = (...v: number[]) => ({ list: { i: v.map(String) } });
export const str = (v: string) => ({ s: Buffer.from(v).toString('base64') });
export const strs = (...v: string[]) => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } });
const T = { type: 'DT_FLOAT' };

export class TfGraphBuilder {
  private nodes: Array<{ name: string; op: string; input: string[]; attr: Attr }> = [];
  private weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: { dtype: string } }> = [];
  private chunks: Buffer[] = [];
  private inputs: Array<{ name: string; shape: number[] }> = [];
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  input(name: string, shape: number[]): string {
    this.inputs.push({ name, shape });
    this.nodes.push({ name, op: 'Placeholder', input: [], attr: { dtype: T, shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    return name;
  }

  /** A float constant, random unless data is given; float16 stores it quantized as TF.js does. */
  const(name: string, shape: number[], data?: number[], opts: { float16?: boolean } = {}): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = data ?? Array.from({ length: n }, () => this.random());
    let bytes: Buffer;
    if (opts.float16) {
      bytes = Buffer.alloc(2 * n);
      values.forEach((v, i) => bytes.writeUInt16LE(floatToHalf(v), 2 * i));
    } else {
      bytes = Buffer.alloc(4 * n);
      values.forEach((v, i) => bytes.writeFloatLE(v, 4 * i));
    }
    this.addConst(name, shape, 'float32', 'DT_FLOAT', bytes, opts.float16 ? { dtype: 'float16' } : undefined);
    return name;
  }

  intConst(name: string, shape: number[], data: number[]): string {
    const bytes = Buffer.alloc(4 * data.length);
    data.forEach((v, i) => bytes.writeInt32LE(v, 4 * i));
    this.addConst(name, shape, 'int32', 'DT_INT32', bytes);
    return name;
  }

  op(op: string, name: string, input: string[], attr: Attr = {}): string {
    this.nodes.push({ name, op, input, attr: { T, ...attr } });
    return name;
  }

  /** Writes model.json + weights.bin into a new temporary folder; `shuffle` scrambles node order. */
  write(outputs: string[], shuffle = false): { file: string; json: Record<string, unknown>; weights: ArrayBuffer } {
    const nodes = shuffle ? [...this.nodes].sort(() => this.random()) : this.nodes;
    const json = {
      format: 'graph-model',
      generatedBy: 'vigil tests',
      convertedBy: 'vigil tests',
      modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.weights }],
      signature: {
        inputs: Object.fromEntries(this.inputs.map((i) => [`${i.name}:0`, { name: `${i.name}:0`, dtype: 'DT_FLOAT', tensorShape: { dim: i.shape.map((d) => ({ size: String(d) })) } }])),
        outputs: Object.fromEntries(outputs.map((o) => [`${o}:0`, { name: `${o}:0`, dtype: 'DT_FLOAT' }])),
      },
    };
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-tfgraph-'));
    const weights = Buffer.concat(this.chunks);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    writeFileSync(path.join(dir, 'weights.bin'), weights);
    return { file: path.join(dir, 'model.json'), json, weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) };
  }

  private addConst(name: string, shape: number[], dtype: string, tfType: string, bytes: Buffer, quantization?: { dtype: string }): void {
    this.weights.push({ name, shape, dtype, ...(quantization ? { quantization } : {}) });
    this.chunks.push(bytes);
    this.nodes.push({
      name,
      op: 'Const',
      input: [],
      attr: { dtype: { type: tfType }, value: { tensor: { dtype: tfType, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } },
    });
  }
}

/** float32 → IEEE binary16 bits (round to nearest), for float16-quantized test weights. */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (exp <= 0) return sign + Math.round((mant | 0x800000) / 2 ** (14 - exp));
  if (exp >= 31) return sign + 0x7c00;
  // + not |: a mantissa that rounds up to 1024 carries into the exponent, as it should.
  return sign + (exp << 10) + Math.round(mant / 2 ** 13);
}
