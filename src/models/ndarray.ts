// Small dense-array helpers for constant tensors at model-build time (never on the detection path).
import type { ConstTensor } from './tfjs-graph.js';

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const identityPerm = (rank: number): number[] => Array.from({ length: rank }, (_, i) => i);

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export const samePerm = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
}

/** out axis i = in axis perm[i] (numpy.transpose semantics). */
export function transpose(t: ConstTensor, perm: readonly number[]): ConstTensor {
  const shape = perm.map((p) => t.shape[p]!);
  const inStrides = strides(t.shape);
  const data = new (t.data.constructor as { new (n: number): Float32Array | Int32Array })(t.data.length);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  const step = perm.map((p) => inStrides[p]!);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += index[k]! * step[k]!;
    data[o] = t.data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k]! < shape[k]!) break;
      index[k] = 0;
    }
  }
  return { dtype: t.dtype, shape, data };
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Element-wise op with numpy broadcasting, for constant folding. */
export function broadcastOp(a: ConstTensor, b: ConstTensor, fn: (x: number, y: number) => number): ConstTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const rank = shape.length;
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [as, bs] = [pad(a.shape), pad(b.shape)];
  const [ast, bst] = [strides(as).map((s, i) => (as[i] === 1 ? 0 : s)), strides(bs).map((s, i) => (bs[i] === 1 ? 0 : s))];
  const floatOut = a.dtype === 'float32' || b.dtype === 'float32';
  const data = floatOut ? new Float32Array(sizeOf(shape)) : new Int32Array(sizeOf(shape));
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let ai = 0, bi = 0;
    for (let k = 0; k < rank; k++) {
      ai += index[k]! * ast[k]!;
      bi += index[k]! * bst[k]!;
    }
    data[o] = fn(a.data[ai]!, b.data[bi]!);
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k]! < shape[k]!) break;
      index[k] = 0;
    }
  }
  return { dtype: floatOut ? 'float32' : a.dtype, shape, data };
}

export const scalarOf = (t: ConstTensor): number => {
  if (t.data.length !== 1) throw new Error(`expected a scalar, got shape [${t.shape}]`);
  return t.data[0]!;
};
