// Builds an ONNX graph and writes it as protobuf: the only module that knows onnx-proto.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const AttributeType = onnx.AttributeProto.AttributeType;

export const OPSET = 13;
const FLOAT = 1;
const INT64 = 7;

export type AttrValue = number | string | number[] | { floats: number[] } | { float: number };

export class OnnxGraphBuilder {
  private nodes: onnxProto.onnx.INodeProto[] = [];
  private initializers: onnxProto.onnx.ITensorProto[] = [];
  private inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private outputs: onnxProto.onnx.IValueInfoProto[] = [];
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
    this.inputs.push(valueInfo(name, shape));
  }

  floatInitializer(base: string, shape: number[], data: Float32Array): string {
    const name = this.unique(base);
    this.initializers.push({
      name,
      dims: shape,
      dataType: FLOAT,
      rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
    });
    return name;
  }

  int64Initializer(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    const raw = Buffer.alloc(8 * values.length);
    values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), 8 * i));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(raw) });
    return name;
  }

  /** Adds a node; returns its output names (one fresh name per output). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputCount = 1, base = op): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.unique(outputCount > 1 ? `${base}:${i}` : base));
    this.nodes.push({
      opType: op,
      name: this.unique(`${base}#node`),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return outputs;
  }

  /** Publishes a tensor as a graph output under an exact name (an Identity that ORT optimises away). */
  output(tensor: string, name: string, shape: number[]): void {
    if (this.used.has(name)) throw new Error(`output name ${name} is already taken`);
    this.used.add(name);
    this.nodes.push({ opType: 'Identity', name: this.unique(`${name}#node`), input: [tensor], output: [name], attribute: [] });
    this.outputs.push(valueInfo(name, shape));
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  countOps(op: string): number {
    return this.nodes.filter((n) => n.opType === op).length;
  }

  serialize(graphName: string, docString: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'vigil',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, shape: number[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: shape.map((d) => (d >= 0 ? { dimValue: d } : { dimParam: 'N' })) } } },
  };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}
