/**
 * Reads a TensorFlow Lite model (a FlatBuffer with identifier "TFL3") into plain objects: the
 * first subgraph's tensors (shape, type, constant data), its operators in execution order with
 * the builtin options the converter needs, and the graph inputs and outputs.
 *
 * Field indices follow tensorflow/lite/schema/schema.fbs (a union takes two slots: its type byte,
 * then the table). Only the options of the ops our models use are decoded; any other op is still
 * listed, by name, so the converter can refuse it by name.
 */
import { FlatBufferError, rootTable, type Table } from './flatbuffer.ts';

/** BuiltinOperator codes (schema.fbs) of the ops we read or want to name in errors. */
export const BUILTIN_NAMES: Record<number, string> = {
  0: 'ADD', 1: 'AVERAGE_POOL_2D', 2: 'CONCATENATION', 3: 'CONV_2D', 4: 'DEPTHWISE_CONV_2D', 6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED', 11: 'L2_NORMALIZATION', 14: 'LOGISTIC', 17: 'MAX_POOL_2D', 18: 'MUL', 19: 'RELU',
  21: 'RELU6', 22: 'RESHAPE', 25: 'SOFTMAX', 34: 'PAD', 39: 'TRANSPOSE', 40: 'MEAN', 41: 'SUB', 42: 'DIV',
  54: 'PRELU', 101: 'ABS', 114: 'QUANTIZE',
};

/** TensorType enum (schema.fbs) -> name. */
const TENSOR_TYPES = ['FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8'];

export type Padding = 'SAME' | 'VALID';
/** ActivationFunctionType: NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT. */
export type Activation = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH' | 'SIGN_BIT';
const ACTIVATIONS: Activation[] = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

export interface ConvOptions {
  padding: Padding;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  /** DEPTHWISE_CONV_2D only (1 for CONV_2D). */
  depthMultiplier: number;
  activation: Activation;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: string;
  /** Constant contents (weights, biases, shapes); undefined for activations. */
  data?: Buffer;
}

export interface TfliteOperator {
  index: number;
  /** Builtin name (CONV_2D ...), `BUILTIN_<code>`, or `CUSTOM:<name>`. */
  op: string;
  /** Tensor indices; -1 = optional input left out. */
  inputs: number[];
  outputs: number[];
  conv?: ConvOptions;
  /** Fused activation of ADD / SUB / MUL. */
  activation?: Activation;
  /** RESHAPE's new_shape option, when given as an option rather than an input. */
  newShape?: number[];
}

export interface TfliteModel {
  version: number;
  description: string;
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}

/** BuiltinOptions union type ids (1-based position in the union, schema.fbs). */
const OPTIONS = { Conv2D: 1, DepthwiseConv2D: 2, Add: 11, Reshape: 17, Mul: 21, Sub: 28 } as const;

const activation = (t: Table, index: number): Activation => ACTIVATIONS[t.int8(index)] ?? 'NONE';

function convOptions(t: Table, depthwise: boolean): ConvOptions {
  // Conv2DOptions: padding, stride_w, stride_h, fused_activation_function, dilation_w, dilation_h.
  // DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_multiplier, fused_activation_function, dilation_w, dilation_h.
  const d = depthwise ? 1 : 0;
  return {
    padding: t.int8(0) === 1 ? 'VALID' : 'SAME',
    strideW: t.int32(1),
    strideH: t.int32(2),
    depthMultiplier: depthwise ? t.int32(3) : 1,
    activation: activation(t, 3 + d),
    dilationW: t.int32(4 + d, 1),
    dilationH: t.int32(5 + d, 1),
  };
}

function operatorName(code: Table): string {
  // OperatorCode: deprecated_builtin_code:byte, custom_code:string, version:int, builtin_code:int.
  // Writers since TF 2.4 fill both codes; older ones only the byte. The larger is the real one.
  const builtin = Math.max(code.int8(0), code.int32(3));
  if (builtin === 32) return `CUSTOM:${code.string(1) ?? '?'}`;
  return BUILTIN_NAMES[builtin] ?? `BUILTIN_${builtin}`;
}

function readOperator(t: Table, index: number, opNames: string[]): TfliteOperator {
  // Operator: opcode_index, inputs, outputs, builtin_options_type, builtin_options, ...
  const opIndex = t.uint32(0);
  if (opIndex >= opNames.length) throw new FlatBufferError(`operator ${index} names operator code ${opIndex} of ${opNames.length}`);
  const o: TfliteOperator = { index, op: opNames[opIndex], inputs: t.int32s(1), outputs: t.int32s(2) };
  const type = t.uint8(3);
  const opts = t.table(4);
  if (!opts) return o;
  if (type === OPTIONS.Conv2D) o.conv = convOptions(opts, false);
  else if (type === OPTIONS.DepthwiseConv2D) o.conv = convOptions(opts, true);
  else if (type === OPTIONS.Add || type === OPTIONS.Mul || type === OPTIONS.Sub) o.activation = activation(opts, 0);
  else if (type === OPTIONS.Reshape) o.newShape = opts.int32s(0);
  return o;
}

function bufferData(buf: Buffer, t: Table): Buffer | undefined {
  // Buffer: data:[ubyte], offset:ulong, size:ulong (offset/size: models over 2 GB keep data after the FlatBuffer).
  const data = t.vectorBytes(0, 1);
  if (data?.length) return data;
  const offset = Number(t.uint64(1));
  const size = Number(t.uint64(2));
  if (offset > 1 && size > 0) {
    if (offset + size > buf.length) throw new FlatBufferError(`buffer at byte ${offset} (+${size}) lies outside the file`);
    return buf.subarray(offset, offset + size);
  }
  return undefined;
}

export function readTflite(bytes: Uint8Array): TfliteModel {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const model = rootTable(buf, 'TFL3');
  // Model: version, operator_codes, subgraphs, description, buffers, metadata_buffer, ...
  const opNames = model.tables(1).map(operatorName);
  const subgraphs = model.tables(2);
  if (!subgraphs.length) throw new FlatBufferError('model has no subgraph');
  const buffers = model.tables(4).map((b) => bufferData(buf, b));
  // SubGraph: tensors, inputs, outputs, operators, name.
  const g = subgraphs[0];
  const tensors = g.tables(0).map((t, index): TfliteTensor => {
    // Tensor: shape, type, buffer, name, quantization, is_variable, ...
    const b = t.uint32(2);
    if (b >= buffers.length) throw new FlatBufferError(`tensor ${index} names buffer ${b} of ${buffers.length}`);
    const type = t.int8(1);
    return { index, name: t.string(3) ?? `tensor_${index}`, shape: t.int32s(0), type: TENSOR_TYPES[type] ?? `TYPE_${type}`, data: buffers[b] };
  });
  const operators = g.tables(3).map((t, i) => readOperator(t, i, opNames));
  for (const o of operators)
    for (const x of [...o.inputs, ...o.outputs])
      if (x >= tensors.length) throw new FlatBufferError(`operator ${o.index} (${o.op}) names tensor ${x} of ${tensors.length}`);
  return { version: model.uint32(0), description: model.string(3) ?? '', tensors, operators, inputs: g.int32s(1), outputs: g.int32s(2) };
}

/** A FLOAT32 constant tensor's values (an aligned copy). */
export function tensorFloats(t: TfliteTensor): Float32Array {
  if (t.type !== 'FLOAT32') throw new Error(`tensor '${t.name}' is ${t.type}, not FLOAT32`);
  if (!t.data) throw new Error(`tensor '${t.name}' has no constant data`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n * 4) throw new Error(`tensor '${t.name}': ${t.data.length} bytes for shape [${t.shape}]`);
  const copy = new Uint8Array(t.data);
  return new Float32Array(copy.buffer, 0, n);
}

/** An INT32 constant tensor's values (RESHAPE shapes). */
export function tensorInts(t: TfliteTensor): number[] {
  if (t.type !== 'INT32' || !t.data) throw new Error(`tensor '${t.name}' is not an INT32 constant`);
  const out: number[] = [];
  for (let i = 0; i + 4 <= t.data.length; i += 4) out.push(t.data.readInt32LE(i));
  return out;
}
