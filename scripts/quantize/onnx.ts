/**
 * Typed view of the ONNX protobuf messages (the subset this package reads and writes), decode /
 * encode, and helpers for tensors, attributes and element types.
 *
 * Messages are plain objects shaped like protobufjs's decoded messages (camelCase field names).
 * int64 fields decode as `Long` (or number); read them with `toNum`.
 */
import { AttrType, DataType, ModelProtoType } from './onnx-schema.ts';

export type Int64 = number | { toNumber(): number };

export interface StringStringEntry {
  key?: string;
  value?: string;
}
export interface OperatorSetId {
  domain?: string;
  version?: Int64;
}
export interface TensorProto {
  name?: string;
  dims: Int64[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  uint64Data?: Int64[];
  stringData?: Uint8Array[];
  dataLocation?: number;
  externalData?: StringStringEntry[];
  docString?: string;
}
export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  refAttrName?: string;
  docString?: string;
}
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute: AttributeProto[];
  docString?: string;
}
export interface TensorShapeDim {
  dimValue?: Int64;
  dimParam?: string;
}
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim: TensorShapeDim[] } };
  [k: string]: unknown;
}
export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}
export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  sparseInitializer?: unknown[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  quantizationAnnotation?: unknown[];
  docString?: string;
}
export interface ModelProto {
  irVersion?: Int64;
  opsetImport: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph: GraphProto;
  metadataProps?: StringStringEntry[];
  trainingInfo?: unknown[];
  functions?: unknown[];
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  const m = ModelProtoType.decode(bytes) as unknown as ModelProto;
  if (!m.graph) throw new Error('ONNX model has no graph');
  return m;
}

export function encodeModel(model: ModelProto): Uint8Array {
  const err = ModelProtoType.verify(model);
  if (err) throw new Error(`invalid ONNX model: ${err}`);
  return ModelProtoType.encode(model as never).finish();
}

export function toNum(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Version of the default ('' / 'ai.onnx') opset the model imports. */
export function defaultOpset(model: ModelProto): number {
  const o = model.opsetImport.find((x) => !x.domain || x.domain === 'ai.onnx');
  if (!o) throw new Error('ONNX model imports no default-domain opset');
  return toNum(o.version);
}

export const isDefaultDomain = (n: NodeProto): boolean => !n.domain || n.domain === 'ai.onnx';

export function nodeLabel(n: NodeProto): string {
  return `${n.opType} node '${n.name || n.output[0] || '?'}'`;
}

// ---------------------------------------------------------------- attributes

export function getAttr(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attribute.find((a) => a.name === name);
}
export function attrInt(n: NodeProto, name: string, dflt: number): number {
  const a = getAttr(n, name);
  return a ? toNum(a.i) : dflt;
}
export function attrInts(n: NodeProto, name: string): number[] | undefined {
  const a = getAttr(n, name);
  return a ? (a.ints ?? []).map(toNum) : undefined;
}
export function attrFloat(n: NodeProto, name: string): number | undefined {
  const a = getAttr(n, name);
  return a ? (a.f ?? 0) : undefined;
}
export function attrString(n: NodeProto, name: string): string | undefined {
  const a = getAttr(n, name);
  return a ? Buffer.from(a.s ?? new Uint8Array()).toString('utf8') : undefined;
}
export function removeAttr(n: NodeProto, name: string): void {
  n.attribute = n.attribute.filter((a) => a.name !== name);
}
export const intAttr = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });
export const intsAttr = (name: string, ints: number[]): AttributeProto => ({ name, type: AttrType.INTS, ints });
export const floatAttr = (name: string, f: number): AttributeProto => ({ name, type: AttrType.FLOAT, f });
export const stringAttr = (name: string, s: string): AttributeProto => ({
  name,
  type: AttrType.STRING,
  s: Buffer.from(s, 'utf8'),
});

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attribute: AttributeProto[] = [],
  domain = '',
): NodeProto {
  const n: NodeProto = { input: inputs, output: outputs, name, opType, attribute };
  if (domain) n.domain = domain;
  return n;
}

// ---------------------------------------------------------------- tensors

export const dimsOf = (t: TensorProto): number[] => t.dims.map(toNum);
export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function rawView(t: TensorProto): Uint8Array | undefined {
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length)) {
    throw new Error(`tensor '${t.name}' keeps its data in an external file, which is not supported`);
  }
  return t.rawData && t.rawData.length ? t.rawData : undefined;
}

/** The elements of a FLOAT tensor. */
export function floatData(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Error(`tensor '${t.name}' is not float (data_type ${t.dataType})`);
  const raw = rawView(t);
  const n = sizeOf(dimsOf(t));
  if (raw) {
    if (raw.length !== n * 4) throw new Error(`tensor '${t.name}': raw_data has ${raw.length} bytes, expected ${n * 4}`);
    const copy = new Uint8Array(raw); // aligned copy
    return new Float32Array(copy.buffer, copy.byteOffset, n);
  }
  const fd = t.floatData ?? [];
  if (fd.length !== n) throw new Error(`tensor '${t.name}': ${fd.length} float_data elements, expected ${n}`);
  return Float32Array.from(fd);
}

/** The elements of an INT64 / INT32 tensor as numbers. */
export function intData(t: TensorProto): number[] {
  const raw = rawView(t);
  const n = sizeOf(dimsOf(t));
  if (t.dataType === DataType.INT64) {
    if (raw) {
      const copy = new Uint8Array(raw);
      return Array.from(new BigInt64Array(copy.buffer, copy.byteOffset, n), (b) => Number(b));
    }
    return (t.int64Data ?? []).map(toNum);
  }
  if (t.dataType === DataType.INT32) {
    if (raw) {
      const copy = new Uint8Array(raw);
      return Array.from(new Int32Array(copy.buffer, copy.byteOffset, n));
    }
    return [...(t.int32Data ?? [])];
  }
  throw new Error(`tensor '${t.name}' is not an integer tensor (data_type ${t.dataType})`);
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

export function makeFloatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytesOf(Float32Array.from(values)) };
}
export function makeInt64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))) };
}
export function makeInt32Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: DataType.INT32, rawData: bytesOf(Int32Array.from(values)) };
}
export function makeInt8Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: DataType.INT8, rawData: bytesOf(Int8Array.from(values)) };
}
export function makeUint8Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: DataType.UINT8, rawData: bytesOf(Uint8Array.from(values)) };
}

export function tensorValueInfo(name: string, elemType: number, dims?: readonly number[]): ValueInfoProto {
  const tensorType: NonNullable<TypeProto['tensorType']> = { elemType };
  if (dims) tensorType.shape = { dim: dims.map((d) => ({ dimValue: d })) };
  return { name, type: { tensorType } };
}

// ---------------------------------------------------------------- graph queries

export function initializerMap(g: GraphProto): Map<string, TensorProto> {
  return new Map(g.initializer.map((t) => [t.name ?? '', t]));
}

/** Tensor name -> the node producing it. */
export function producerMap(g: GraphProto): Map<string, NodeProto> {
  const m = new Map<string, NodeProto>();
  for (const n of g.node) for (const o of n.output) if (o) m.set(o, n);
  return m;
}

/** Tensor name -> nodes consuming it (graph order). */
export function consumerMap(g: GraphProto): Map<string, NodeProto[]> {
  const m = new Map<string, NodeProto[]>();
  for (const n of g.node)
    for (const i of n.input) {
      if (!i) continue;
      const l = m.get(i);
      if (l) {
        if (!l.includes(n)) l.push(n);
      } else m.set(i, [n]);
    }
  return m;
}

/**
 * Element type of every tensor the graph names, as far as a light forward pass can tell:
 * graph inputs, initializers, Constant nodes, and per-op rules (shape ops give INT64, Cast gives
 * `to`, most ops keep the type of their first typed input).
 */
export function inferElemTypes(g: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const vi of [...g.input, ...g.valueInfo, ...g.output]) {
    const et = vi.type?.tensorType?.elemType;
    if (vi.name && et) types.set(vi.name, et);
  }
  for (const t of g.initializer) if (t.name && t.dataType) types.set(t.name, t.dataType);
  const BOOL = 9;
  for (const n of g.node) {
    const op = n.opType ?? '';
    let t: number | undefined;
    if (!isDefaultDomain(n)) t = undefined;
    else if (['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression'].includes(op)) t = DataType.INT64;
    else if (op === 'Cast') t = attrInt(n, 'to', 0);
    else if (op === 'Constant') t = getAttr(n, 'value')?.t?.dataType ?? (getAttr(n, 'value_float') ? DataType.FLOAT : DataType.INT64);
    else if (op === 'ConstantOfShape') t = getAttr(n, 'value')?.t?.dataType ?? DataType.FLOAT;
    else if (op === 'DequantizeLinear') t = DataType.FLOAT;
    else if (op === 'QuantizeLinear') t = n.input[2] ? types.get(n.input[2]) : DataType.UINT8;
    else if (['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf'].includes(op))
      t = BOOL;
    else if (op === 'Where') t = types.get(n.input[1]);
    else t = n.input.map((i) => (i ? types.get(i) : undefined)).find((x) => x !== undefined);
    if (t === undefined) continue;
    if (op === 'TopK' || op === 'MaxPool') {
      types.set(n.output[0], t);
      if (n.output[1]) types.set(n.output[1], DataType.INT64);
      continue;
    }
    for (const o of n.output) if (o && !types.has(o)) types.set(o, t);
  }
  return types;
}

/**
 * Gives every node a name (graph-unique), so errors and generated names can refer to it.
 * Deterministic: unnamed nodes get `<opType>_<index>`.
 */
export function ensureNodeNames(g: GraphProto): void {
  const used = new Set(g.node.map((n) => n.name).filter((x): x is string => !!x));
  g.node.forEach((n, i) => {
    if (n.name) return;
    let name = `${n.opType}_${i}`;
    for (let k = 1; used.has(name); k++) name = `${n.opType}_${i}_${k}`;
    used.add(name);
    n.name = name;
  });
}

/** Allocates names not yet used by any tensor or node of the graph (deterministic). */
export class NameAllocator {
  private used = new Set<string>();
  constructor(g: GraphProto) {
    for (const t of g.initializer) if (t.name) this.used.add(t.name);
    for (const v of [...g.input, ...g.output, ...g.valueInfo]) if (v.name) this.used.add(v.name);
    for (const n of g.node) {
      if (n.name) this.used.add(n.name);
      for (const x of [...n.input, ...n.output]) if (x) this.used.add(x);
    }
  }
  take(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }
}
