/**
 * TFLite (float, NHWC) -> ONNX (NCHW, opset 13), for the ops of the embedding models we take
 * from TFLite: CONV_2D, DEPTHWISE_CONV_2D, ADD, SUB, MUL, RELU, ABS, RESHAPE (to [batch, n]).
 *
 * - The ONNX graph takes NCHW input, the layout and normalisation the vision engine already
 *   produces for the main embedder ((x - 127) / 128, RGB): `inputShift` is subtracted first to
 *   reach the normalisation the TFLite model was trained with ((x - 127.5) / 128: shift 0.5/128).
 * - Weights OHWI -> OIHW; depthwise [1, kh, kw, C*m] -> grouped Conv [C*m, 1, kh, kw], group C.
 * - SAME padding is resolved into explicit pads from the tensor sizes the file records
 *   (TensorFlow puts the odd pixel after: bottom / right).
 * - The batch dimension is dynamic (`batch`), whatever fixed batch the file was exported with.
 * - PReLU spelled out as RELU/ABS/SUB/MUL/ADD is folded back into PRelu (prelu.ts).
 * - Per-channel constants ([C], broadcast on NHWC's last axis) become [C, 1, 1] for NCHW.
 * - Optionally, PRelu slopes above 1 are rewritten away, exactly, for the int8 quantizer
 *   (prelu-slopes.ts).
 *
 * Anything else is refused by name rather than converted approximately.
 */
import type { NodeProto, TensorProto } from '../quantize/onnx.ts';
import { encodeModel, intAttr, intsAttr, makeFloatTensor, makeNode } from '../quantize/onnx.ts';
import { DataType } from '../quantize/onnx-schema.ts';
import { findPreluGroups } from './prelu.ts';
import { boundPreluSlopes } from './prelu-slopes.ts';
import { readTflite, tensorFloats, tensorInts, type ConvOptions, type TfliteModel, type TfliteOperator } from './reader.ts';

export interface ConvertOptions {
  /** Subtracted from the input before the first op (default 0). */
  inputShift?: number;
  inputName?: string;
  outputName?: string;
  /** Written into the model's doc string (where it came from). */
  docString?: string;
  /** Rewrite PRelu channels with slope > 1 so the quantizer can run them in int8 (prelu-slopes.ts). */
  boundPreluSlopes?: boolean;
}

export interface ConvertReport {
  ops: Record<string, number>;
  preluFolded: number;
  /** PRelus / channels rewritten to slopes <= 1 (boundPreluSlopes). */
  preluBounded?: { rewritten: number; channels: number };
}

/** SAME padding as TensorFlow computes it: the odd pixel goes after. */
export function samePads(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** [O, H, W, I] -> [O, I, H, W]. */
export function ohwiToOihw(w: Float32Array, [o, h, wd, i]: number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < wd; x++)
        for (let c = 0; c < i; c++) out[((a * i + c) * h + y) * wd + x] = w[((a * h + y) * wd + x) * i + c];
  return out;
}

export function convertTflite(bytes: Uint8Array, opts: ConvertOptions = {}): { onnx: Uint8Array; report: ConvertReport } {
  return convertModel(readTflite(bytes), opts);
}

export function convertModel(m: TfliteModel, opts: ConvertOptions = {}): { onnx: Uint8Array; report: ConvertReport } {
  if (m.inputs.length !== 1 || m.outputs.length !== 1) throw new Error(`expected one input and one output, found ${m.inputs.length} and ${m.outputs.length}`);
  const inT = m.tensors[m.inputs[0]];
  if (inT.shape.length !== 4 || inT.type !== 'FLOAT32') throw new Error(`input '${inT.name}' is ${inT.type} [${inT.shape}], expected a float NHWC image`);
  const inputName = opts.inputName ?? 'input';
  const outputName = opts.outputName ?? 'output';
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const ops: Record<string, number> = {};
  const names = new Map<number, string>();
  const name = (t: number) => names.get(t) ?? m.tensors[t].name;
  const initNames = new Set<string>();
  const addInit = (t: TensorProto) => {
    if (!initNames.has(t.name!)) inits.push(t);
    initNames.add(t.name!);
    return t.name!;
  };
  const emit = (n: NodeProto) => {
    nodes.push(n);
    ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;
  };

  let first = inputName;
  if (opts.inputShift) {
    first = `${inputName}_shifted`;
    emit(makeNode('Sub', [inputName, addInit(makeFloatTensor('input_shift', [], [opts.inputShift]))], [first], 'input_shift'));
  }
  names.set(m.inputs[0], first);
  names.set(m.outputs[0], outputName);

  /** A constant operand of an elementwise op, laid out for NCHW. */
  const elementwiseConst = (t: number): string => {
    const tt = m.tensors[t];
    const v = tensorFloats(tt);
    if (tt.shape.length > 1 && tt.shape.slice(0, -1).some((d) => d !== 1)) throw new Error(`constant '${tt.name}' [${tt.shape}]: only per-channel or scalar constants are supported`);
    return addInit(makeFloatTensor(tt.name, v.length > 1 ? [v.length, 1, 1] : [], v));
  };
  const operand = (t: number) => (m.tensors[t].data ? elementwiseConst(t) : name(t));

  /** Writes `out` through the fused activation, if any. */
  const withActivation = (o: TfliteOperator, act: string | undefined, emitOp: (out: string) => void) => {
    const out = name(o.outputs[0]);
    if (!act || act === 'NONE') return emitOp(out);
    const pre = `${out}_preact`;
    emitOp(pre);
    if (act === 'RELU') emit(makeNode('Relu', [pre], [out], `${o.index}_relu`));
    else if (act === 'RELU6') emit(makeNode('Clip', [pre, addInit(makeFloatTensor('zero', [], [0])), addInit(makeFloatTensor('six', [], [6]))], [out], `${o.index}_relu6`));
    else throw new Error(`operator ${o.index} (${o.op}): fused activation ${act} is not supported`);
  };

  const conv = (o: TfliteOperator, c: ConvOptions, depthwise: boolean) => {
    const [x, wIdx, bIdx] = o.inputs;
    const wT = m.tensors[wIdx];
    const [, inH, inW, inC] = m.tensors[x].shape;
    const w = tensorFloats(wT);
    let dims: number[];
    let data: Float32Array;
    let group = 1;
    const [, kh, kw] = wT.shape;
    if (depthwise) {
      // [1, kh, kw, C*m]: output channel oc reads input channel floor(oc / m), as ONNX groups do.
      const oc = wT.shape[3];
      if (oc !== inC * c.depthMultiplier) throw new Error(`operator ${o.index}: depthwise weights [${wT.shape}] for ${inC} channels x ${c.depthMultiplier}`);
      dims = [oc, 1, kh, kw];
      // As OHWI with O = 1 this transposes to [1, C*m, kh, kw]: the same elements as [C*m, 1, kh, kw].
      data = ohwiToOihw(w, [1, kh, kw, oc]);
      group = inC;
    } else {
      dims = [wT.shape[0], wT.shape[3], kh, kw];
      data = ohwiToOihw(w, wT.shape);
    }
    const [pt, pb] = c.padding === 'SAME' ? samePads(inH, kh, c.strideH, c.dilationH) : [0, 0];
    const [pl, pr] = c.padding === 'SAME' ? samePads(inW, kw, c.strideW, c.dilationW) : [0, 0];
    const inputs = [name(x), addInit(makeFloatTensor(wT.name, dims, data))];
    if (bIdx !== undefined && bIdx >= 0) inputs.push(addInit(makeFloatTensor(m.tensors[bIdx].name, [dims[0]], tensorFloats(m.tensors[bIdx]))));
    const attrs = [
      intsAttr('kernel_shape', [kh, kw]),
      intsAttr('strides', [c.strideH, c.strideW]),
      intsAttr('dilations', [c.dilationH, c.dilationW]),
      intsAttr('pads', [pt, pl, pb, pr]),
      intAttr('group', group),
    ];
    withActivation(o, c.activation, (out) => emit(makeNode('Conv', inputs, [out], `${o.index}_${depthwise ? 'dwconv' : 'conv'}`, attrs)));
  };

  const prelu = new Map(findPreluGroups(m).map((g) => [g.at, g]));
  const skip = new Set([...prelu.values()].flatMap((g) => g.ops));
  for (const o of m.operators) {
    const g = prelu.get(o.index);
    if (g) {
      const c = tensorFloats(m.tensors[g.halfSlope]);
      const slope = addInit(makeFloatTensor(`${m.tensors[g.halfSlope].name}_prelu_slope`, [c.length, 1, 1], c.map((v) => 2 * v)));
      emit(makeNode('PRelu', [name(g.input), slope], [name(g.output)], `${o.index}_prelu`));
      continue;
    }
    if (skip.has(o.index)) continue;
    switch (o.op) {
      case 'CONV_2D':
        conv(o, o.conv!, false);
        break;
      case 'DEPTHWISE_CONV_2D':
        conv(o, o.conv!, true);
        break;
      case 'ADD':
      case 'SUB':
      case 'MUL': {
        const op = o.op === 'ADD' ? 'Add' : o.op === 'SUB' ? 'Sub' : 'Mul';
        withActivation(o, o.activation, (out) => emit(makeNode(op, o.inputs.map(operand), [out], `${o.index}_${op.toLowerCase()}`)));
        break;
      }
      case 'RELU':
        emit(makeNode('Relu', [name(o.inputs[0])], [name(o.outputs[0])], `${o.index}_relu`));
        break;
      case 'ABS':
        emit(makeNode('Abs', [name(o.inputs[0])], [name(o.outputs[0])], `${o.index}_abs`));
        break;
      case 'RESHAPE': {
        // Only [N, 1, 1, C] -> [N, C] (or any 4-D tensor whose H and W are 1): there NHWC and
        // NCHW hold the same elements in the same order, so Flatten is exact at any batch.
        const src = m.tensors[o.inputs[0]].shape;
        const dst = o.newShape?.length ? o.newShape : tensorInts(m.tensors[o.inputs[1]]);
        if (src.length !== 4 || src[1] !== 1 || src[2] !== 1 || dst.length !== 2) {
          throw new Error(`operator ${o.index}: RESHAPE [${src}] -> [${dst}] is not supported (only [N, 1, 1, C] -> [N, C])`);
        }
        emit(makeNode('Flatten', [name(o.inputs[0])], [name(o.outputs[0])], `${o.index}_flatten`, [intAttr('axis', 1)]));
        break;
      }
      default:
        throw new Error(`operator ${o.index}: ${o.op} is not supported by the TFLite converter`);
    }
  }

  const bounded = opts.boundPreluSlopes ? boundPreluSlopes(nodes, inits) : undefined;
  const [, h, w, c] = inT.shape;
  const outT = m.tensors[m.outputs[0]];
  const vi = (n: string, dims: (number | string)[]) => ({
    name: n,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const onnx = encodeModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'portier-tflite',
    producerVersion: '1',
    docString: opts.docString,
    graph: {
      name: 'tflite',
      node: nodes,
      initializer: inits,
      input: [vi(inputName, ['batch', c, h, w])],
      output: [vi(outputName, ['batch', ...outT.shape.slice(1)])],
      valueInfo: [],
    },
  });
  return { onnx, report: { ops: Object.fromEntries(Object.entries(ops).sort()), preluFolded: prelu.size, preluBounded: bounded } };
}

