/**
 * Static QDQ rewriting: the node layout onnxruntime's own quantizer (quantize_static,
 * QuantFormat.QDQ) produces, so that onnxruntime's QDQ transformers fuse each
 * `DequantizeLinear -> op -> QuantizeLinear` group into an integer kernel (QLinearConv, QGemm,
 * QLinearMatMul, QLinearAdd).
 *
 * - Weights: int8, symmetric ([-127, 127], zero point 0), per output channel (axis 0 for Conv,
 *   the N axis for Gemm / MatMul), stored as `<w>_quantized` + `<w>_scale` + `<w>_zero_point`
 *   feeding `DequantizeLinear` (`<w>_DequantizeLinear`, output `<w>_DequantizeLinear_Output`).
 * - Biases (Conv, Gemm): int32, scale = input scale * weight scale (per channel), zero point 0,
 *   feeding a DequantizeLinear.
 * - Activations: uint8, asymmetric: `<t>_QuantizeLinear` -> `<t>_QuantizeLinear_Output` ->
 *   `<t>_DequantizeLinear` -> `<t>_DequantizeLinear_Output`, one pair per tensor, shared by all
 *   its consumers; inputs and outputs of every quantized node get one. A graph output keeps its
 *   name (the DequantizeLinear writes it; the producer writes `<t>_QuantizeLinear_Input`).
 * - A Relu that is the only consumer of a quantized node's output is removed: its output's
 *   range starts at 0, so the zero point is 0 and QuantizeLinear clamps exactly as Relu would
 *   (onnxruntime's quantizer and its ReluQuantFusion do the same).
 */
import { createHash } from 'node:crypto';
import type { GraphProto, ModelProto, NodeProto, TensorProto } from './onnx.ts';
import {
  NameAllocator,
  attrFloat,
  attrInt,
  consumerMap,
  dimsOf,
  ensureNodeNames,
  floatData,
  getAttr,
  inferElemTypes,
  initializerMap,
  intAttr,
  intsAttr,
  isDefaultDomain,
  makeFloatTensor,
  makeInt32Tensor,
  makeInt8Tensor,
  makeNode,
  makeUint8Tensor,
  nodeLabel,
  producerMap,
  toNum,
} from './onnx.ts';
import { DataType } from './onnx-schema.ts';
import type { Range } from './calibrate.ts';

/** Ops this quantizer knows how to quantize. */
export const SUPPORTED_OPS = ['Conv', 'Gemm', 'MatMul', 'Add'] as const;
export type SupportedOp = (typeof SUPPORTED_OPS)[number];

/**
 * Ops that carry large weights and so would need quantizing for the int8 model to be small and
 * fast, but that this quantizer cannot quantize. Meeting one (not excluded) is an error.
 */
export const UNSUPPORTED_WEIGHTED_OPS = ['ConvTranspose', 'LSTM', 'GRU', 'RNN', 'Einsum'];

/** Ops that mean the model is quantized already. */
const QUANTIZED_OPS = ['QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger', 'DynamicQuantizeLinear'];

/** Nodes that pass a value through unchanged in range terms (for tracing the quantized trunk). */
const TRANSPARENT = new Set(['Relu', 'PRelu', 'LeakyRelu', 'MaxPool', 'Clip', 'Identity']);

export interface PlanOptions {
  /** Op types to quantize (default: all of SUPPORTED_OPS). */
  opTypes?: readonly string[];
  /** Node names (or output tensor names) to keep float. */
  excludeNodes?: readonly string[];
  /** Remove a Relu that only follows a quantized node (default true). */
  foldRelu?: boolean;
}

export interface WeightPlan {
  /** Initializer name. */
  name: string;
  /** Per-channel axis, or -1 for per-tensor. */
  axis: number;
}

export interface NodePlan {
  node: NodeProto;
  /** Activation inputs that get a QDQ pair (tensor names in the float graph). */
  activations: string[];
  weight?: { input: number; plan: WeightPlan };
  bias?: { input: number; name: string; activation: string; weight: string };
}

export interface QdqPlan {
  nodes: NodePlan[];
  /** Every activation tensor that gets a QDQ pair, in a deterministic order. */
  tensors: string[];
  /** Relu nodes to remove: relu output name -> producer node. */
  foldedRelu: Map<string, { relu: NodeProto; producer: NodeProto }>;
}

export class UnsupportedOpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedOpError';
  }
}

/** Moves Constant nodes' tensors into initializers (weights may come that way). */
export function constantsToInitializers(g: GraphProto): void {
  const keep: NodeProto[] = [];
  for (const n of g.node) {
    const t = isDefaultDomain(n) && n.opType === 'Constant' ? getAttr(n, 'value')?.t : undefined;
    if (t && n.attribute.length === 1) {
      g.initializer.push({ ...t, name: n.output[0] });
    } else keep.push(n);
  }
  g.node = keep;
}

/**
 * Lets nodes share one copy of initializers holding identical data (same type, dims and bytes),
 * keeping the first by graph order. Tensors under `minBytes` are left alone (no gain, and the
 * QDQ scale / zero-point tensors stay one per tensor as onnxruntime's quantizer writes them).
 * Returns the bytes saved.
 */
export function dedupeInitializers(g: GraphProto, minBytes = 256): number {
  const first = new Map<string, string>();
  const alias = new Map<string, string>();
  const graphNames = new Set([...g.input, ...g.output].map((v) => v.name));
  const byName = initializerMap(g);
  let saved = 0;
  for (const t of g.initializer) {
    const raw = t.rawData;
    if (!raw || raw.length < minBytes || !t.name || graphNames.has(t.name)) continue;
    const key = `${t.dataType}|${dimsOf(t).join(',')}|${createHash('sha256').update(raw).digest('hex')}`;
    const k = first.get(key);
    if (k === undefined) first.set(key, t.name);
    else if (Buffer.compare(Buffer.from(raw), Buffer.from(byName.get(k)!.rawData!)) === 0) {
      alias.set(t.name, k);
      saved += raw.length;
    }
  }
  if (!alias.size) return 0;
  for (const n of g.node) n.input = n.input.map((i) => alias.get(i) ?? i);
  g.initializer = g.initializer.filter((t) => !alias.has(t.name ?? ''));
  return saved;
}

/**
 * PRelu(x) = x + Relu((s - 1) * x) per channel, for slopes s <= 1 (x > 0: (s-1)x <= 0, the Relu
 * gives 0; x < 0: (s-1)x >= 0, so x + (s-1)x = s*x). The per-channel product is a 1x1 depthwise
 * convolution, so the activation stays in int8 (one QLinearConv with the Relu folded into its
 * output quantization, one QLinearAdd) instead of DequantizeLinear -> float PRelu ->
 * QuantizeLinear, which onnxruntime runs slowly (its PRelu broadcasts the slope span by span,
 * and in the NHWC layout of the int8 graph the spans are one pixel long). Applied where the
 * PRelu reads a 2-D Conv's output and its slope is per channel ([C,1,1], [1,C,1,1]) or a
 * scalar. The Add writes the PRelu's output name, so nothing downstream changes.
 * Returns the names of the PRelu nodes rewritten.
 */
export function decomposePRelu(g: GraphProto, excluded: ReadonlySet<string> = new Set()): string[] {
  const inits = initializerMap(g);
  const producers = producerMap(g);
  const names = new NameAllocator(g);
  const out: NodeProto[] = [];
  const done: string[] = [];
  for (const n of g.node) {
    const conv = producers.get(n.input[0]);
    const w = conv && conv.opType === 'Conv' && isDefaultDomain(conv) ? inits.get(conv.input[1]) : undefined;
    const slopeT = inits.get(n.input[1] ?? '');
    if (
      n.opType !== 'PRelu' ||
      !isDefaultDomain(n) ||
      excluded.has(n.name ?? '') ||
      !conv ||
      excluded.has(conv.name ?? '') ||
      !w ||
      w.dims.length !== 4 ||
      !slopeT ||
      slopeT.dataType !== DataType.FLOAT
    ) {
      out.push(n);
      continue;
    }
    const c = toNum(w.dims[0]);
    const sd = dimsOf(slopeT);
    const slope = floatData(slopeT);
    const perChannel =
      (slope.length === c && sd.length === 3 && sd[1] === 1 && sd[2] === 1) ||
      (slope.length === c && sd.length === 4 && sd[0] === 1 && sd[2] === 1 && sd[3] === 1);
    if (!(perChannel || slope.length === 1) || slope.some((v) => v > 1)) {
      out.push(n);
      continue;
    }
    const sv = Float32Array.from({ length: c }, (_, i) => slope[slope.length === 1 ? 0 : i] - 1);
    const base = n.name!;
    const wN = names.take(`${base}_neg_w`);
    g.initializer.push(makeFloatTensor(wN, [c, 1, 1, 1], sv));
    const u = names.take(`${base}_neg_out`);
    const ur = names.take(`${base}_neg_relu`);
    out.push(
      makeNode('Conv', [n.input[0], wN], [u], names.take(`${base}_neg`), [intsAttr('kernel_shape', [1, 1]), intAttr('group', c)]),
      makeNode('Relu', [u], [ur], names.take(`${base}_relu`)),
      makeNode('Add', [n.input[0], ur], [n.output[0]], base),
    );
    done.push(base);
  }
  g.node = out;
  // Slopes nothing reads any more.
  const used = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name ?? '') || g.output.some((o) => o.name === t.name));
  return done;
}

/** Removes initializers from the graph inputs (old IR files list them there; ORT then will not fold them). */
export function dropInitializerInputs(g: GraphProto): void {
  const inits = new Set(g.initializer.map((t) => t.name));
  g.input = g.input.filter((i) => !inits.has(i.name));
}

export function planQdq(model: ModelProto, opts: PlanOptions = {}): QdqPlan {
  const g = model.graph;
  ensureNodeNames(g);
  const opTypes = new Set(opts.opTypes ?? SUPPORTED_OPS);
  for (const op of opTypes) {
    if (!(SUPPORTED_OPS as readonly string[]).includes(op)) {
      throw new UnsupportedOpError(
        `quantize: op type '${op}' is not supported for quantization (supported: ${SUPPORTED_OPS.join(', ')})`,
      );
    }
  }
  const excluded = new Set(opts.excludeNodes ?? []);
  const isExcluded = (n: NodeProto) => excluded.has(n.name ?? '') || n.output.some((o) => excluded.has(o));
  const inits = initializerMap(g);
  const types = inferElemTypes(g);
  const producers = producerMap(g);
  const consumers = consumerMap(g);
  const graphOutputs = new Set(g.output.map((o) => o.name));
  const isFloatActivation = (t: string) => !!t && !inits.has(t) && types.get(t) === DataType.FLOAT;

  for (const n of g.node) {
    if (QUANTIZED_OPS.includes(n.opType ?? '')) {
      throw new UnsupportedOpError(`quantize: the model is quantized already (${nodeLabel(n)}); give it the float model`);
    }
    if (!isDefaultDomain(n) || isExcluded(n)) continue;
    if (UNSUPPORTED_WEIGHTED_OPS.includes(n.opType ?? '')) {
      throw new UnsupportedOpError(
        `quantize: ${nodeLabel(n)} carries weights that would need int8 quantizing, but '${n.opType}' is not ` +
          `supported (supported: ${SUPPORTED_OPS.join(', ')}); add '${n.name}' to excludeNodes to keep it float`,
      );
    }
  }

  const nodes: NodePlan[] = [];
  // Tensors produced by the quantized trunk (outputs of quantized nodes, traced through
  // range-preserving ops) or graph inputs: an Add of two of those is quantized.
  const trunk = new Set<string>(g.input.map((i) => i.name ?? '').filter((n) => !inits.has(n)));
  const inTrunk = (t: string): boolean => {
    let cur = t;
    for (let hops = 0; hops < 8; hops++) {
      if (trunk.has(cur)) return true;
      const p = producers.get(cur);
      if (!p || !TRANSPARENT.has(p.opType ?? '') || !isDefaultDomain(p)) return false;
      cur = p.input[0];
    }
    return false;
  };

  for (const n of g.node) {
    const op = n.opType ?? '';
    if (!isDefaultDomain(n) || !opTypes.has(op) || isExcluded(n)) continue;
    const requireWeight = (idx: number, minRank: number): TensorProto => {
      const w = inits.get(n.input[idx]);
      if (!w || w.dataType !== DataType.FLOAT || w.dims.length < minRank) {
        throw new UnsupportedOpError(
          `quantize: ${nodeLabel(n)} needs a constant float weight (input ${idx}, '${n.input[idx]}'); ` +
            `non-constant weights are not supported; add '${n.name}' to excludeNodes to keep it float`,
        );
      }
      return w;
    };
    let p: NodePlan | undefined;
    if (op === 'Conv') {
      if (!isFloatActivation(n.input[0])) continue;
      requireWeight(1, 3);
      p = { node: n, activations: [n.input[0]], weight: { input: 1, plan: { name: n.input[1], axis: 0 } } };
      if (n.input[2]) {
        const b = inits.get(n.input[2]);
        if (!b || b.dataType !== DataType.FLOAT)
          throw new UnsupportedOpError(`quantize: ${nodeLabel(n)} has a non-constant bias '${n.input[2]}'`);
        p.bias = { input: 2, name: n.input[2], activation: n.input[0], weight: n.input[1] };
      } else {
        // No bias: bias correction may add one (name '' = zeros).
        p.bias = { input: 2, name: '', activation: n.input[0], weight: n.input[1] };
      }
    } else if (op === 'Gemm') {
      if (!isFloatActivation(n.input[0]) || attrInt(n, 'transA', 0) !== 0) continue;
      const w = requireWeight(1, 2);
      if (w.dims.length !== 2) continue;
      const transB = attrInt(n, 'transB', 0);
      p = { node: n, activations: [n.input[0]], weight: { input: 1, plan: { name: n.input[1], axis: transB ? 0 : 1 } } };
      const c = n.input[2] ? inits.get(n.input[2]) : undefined;
      const nOut = Number(dimsOf(w)[transB ? 0 : 1]);
      const alpha = attrFloat(n, 'alpha') ?? 1;
      const beta = attrFloat(n, 'beta') ?? 1;
      if (c && c.dataType === DataType.FLOAT && dimsOf(c).length === 1 && dimsOf(c)[0] === nOut && alpha === 1 && beta === 1) {
        p.bias = { input: 2, name: n.input[2], activation: n.input[0], weight: n.input[1] };
      } else if (!n.input[2] && alpha === 1) {
        p.bias = { input: 2, name: '', activation: n.input[0], weight: n.input[1] };
      }
    } else if (op === 'MatMul') {
      if (!isFloatActivation(n.input[0])) continue;
      const w = inits.get(n.input[1]);
      if (w) {
        if (w.dataType !== DataType.FLOAT || w.dims.length !== 2) continue;
        p = { node: n, activations: [n.input[0]], weight: { input: 1, plan: { name: n.input[1], axis: 1 } } };
      } else if (isFloatActivation(n.input[1])) {
        p = { node: n, activations: [n.input[0], n.input[1]] };
      } else continue;
    } else if (op === 'Add') {
      const [a, b] = n.input;
      if (!isFloatActivation(a) || !isFloatActivation(b) || !inTrunk(a) || !inTrunk(b)) continue;
      p = { node: n, activations: [a, b] };
    }
    if (!p) continue;
    nodes.push(p);
    trunk.add(n.output[0]);
  }

  // Relu folding: a quantized node's output consumed only by a Relu (not excluded) and not a
  // graph output: the QDQ goes on the Relu output and the Relu goes away.
  const foldedRelu = new Map<string, { relu: NodeProto; producer: NodeProto }>();
  const outTensor = new Map<NodeProto, string>();
  for (const p of nodes) {
    const y = p.node.output[0];
    outTensor.set(p.node, y);
    if (opts.foldRelu === false || graphOutputs.has(y)) continue;
    const cs = consumers.get(y) ?? [];
    if (cs.length !== 1) continue;
    const r = cs[0];
    if (!isDefaultDomain(r) || r.opType !== 'Relu' || isExcluded(r) || graphOutputs.has(r.output[0])) continue;
    foldedRelu.set(r.output[0], { relu: r, producer: p.node });
    outTensor.set(p.node, r.output[0]);
    trunk.add(r.output[0]);
  }

  // Tensors to quantize, in graph order of first mention. Inputs of quantized nodes that are a
  // folded Relu's input cannot occur (the Relu is the only consumer).
  const wanted = new Set<string>();
  for (const p of nodes) for (const a of p.activations) wanted.add(a);
  for (const p of nodes) wanted.add(outTensor.get(p.node)!);
  const order: string[] = [];
  const seen = new Set<string>();
  const mention = (t: string) => {
    if (wanted.has(t) && !seen.has(t)) {
      seen.add(t);
      order.push(t);
    }
  };
  for (const i of g.input) mention(i.name ?? '');
  for (const n of g.node) {
    for (const i of n.input) mention(i);
    for (const o of n.output) mention(o);
  }
  return { nodes, tensors: order, foldedRelu };
}

// ------------------------------------------------------------------ quantization arithmetic

/** Round half to even (numpy's rounding, as onnxruntime's quantizer uses). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 asymmetric parameters for a range (the range is widened to include 0). */
export function activationParams(r: Range): ActivationParams {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(0 - lo / scale)));
  return { scale, zeroPoint };
}

export interface WeightQuant {
  q: Int8Array;
  scales: Float32Array;
  dims: number[];
}

/** int8 symmetric quantization of a weight, per channel along `axis` (-1: per tensor). */
export function quantizeWeight(w: Float32Array, dims: readonly number[], axis: number, qmax = 127): WeightQuant {
  const channels = axis < 0 ? 1 : dims[axis];
  const inner = axis < 0 ? w.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const absmax = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = axis < 0 ? 0 : Math.floor(i / inner) % channels;
    const a = Math.abs(w[i]);
    if (a > absmax[c]) absmax[c] = a;
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = absmax[c] > 0 ? Math.fround(absmax[c] / qmax) : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = axis < 0 ? 0 : Math.floor(i / inner) % channels;
    q[i] = Math.max(-qmax, Math.min(qmax, roundHalfEven(w[i] / scales[c])));
  }
  return { q, scales, dims: [...dims] };
}

// ------------------------------------------------------------------ graph rewrite

export interface EmitOptions {
  /** Per-channel weights (default true); false: one scale per weight tensor. */
  perChannel?: boolean;
  /** 7-bit weights ([-63, 63]) for CPUs whose u8s8 kernels saturate (x86 without VNNI). */
  reduceRange?: boolean;
  /**
   * Bias correction (default true): subtract from each output channel's bias the mean shift
   * that weight rounding causes, sum(dW * E[x]) with E[x] the calibration mean of each input
   * channel (Nagel et al., "Data-Free Quantization", 2019, with measured instead of predicted
   * means). Conv and Gemm; a Conv without bias gets one.
   */
  biasCorrection?: boolean;
}

/** Per output channel: sum over its weights of (rounding error x mean of the input channel). */
export function biasCorrectionTerm(node: NodeProto, delta: Float32Array, dims: readonly number[], mean: Float64Array): Float64Array | undefined {
  if (node.opType === 'Conv') {
    const [m, cg] = dims;
    const k = dims.slice(2).reduce((a, b) => a * b, 1);
    const group = attrInt(node, 'group', 1);
    if (cg * group !== mean.length) return undefined;
    const perGroup = m / group;
    const out = new Float64Array(m);
    for (let o = 0; o < m; o++) {
      const g = Math.floor(o / perGroup);
      let acc = 0;
      for (let c = 0; c < cg; c++) {
        const mu = mean[g * cg + c];
        const off = (o * cg + c) * k;
        let s = 0;
        for (let i = 0; i < k; i++) s += delta[off + i];
        acc += s * mu;
      }
      out[o] = acc;
    }
    return out;
  }
  if (node.opType === 'Gemm') {
    const transB = attrInt(node, 'transB', 0);
    const [r, c] = dims;
    const nOut = transB ? r : c;
    const kIn = transB ? c : r;
    if (kIn !== mean.length) return undefined;
    const out = new Float64Array(nOut);
    for (let n = 0; n < nOut; n++) {
      let acc = 0;
      for (let k = 0; k < kIn; k++) acc += delta[transB ? n * kIn + k : k * nOut + n] * mean[k];
      out[n] = acc;
    }
    return out;
  }
  return undefined;
}

/**
 * Rewrites `model` (in place) to QDQ form following `plan`, with each activation tensor's
 * range from `ranges`.
 */
export function emitQdq(
  model: ModelProto,
  plan: QdqPlan,
  ranges: ReadonlyMap<string, Range>,
  opts: EmitOptions = {},
  channelMeans?: ReadonlyMap<string, Float64Array>,
): void {
  const g = model.graph;
  const perChannel = opts.perChannel !== false;
  const qmax = opts.reduceRange ? 63 : 127;
  const names = new NameAllocator(g);
  const inits = initializerMap(g);
  const graphOutputs = new Set(g.output.map((o) => o.name));
  const newInits: TensorProto[] = [];

  // Activation QDQ pairs.
  const actParams = new Map<string, ActivationParams>();
  const dqName = new Map<string, string>(); // float tensor -> tensor consumers read instead
  const qdqNodes = new Map<string, NodeProto[]>(); // tensor -> its Q, DQ nodes
  const renamedOutput = new Map<string, string>(); // graph output t -> new producer output name
  for (const t of plan.tensors) {
    const r = ranges.get(t);
    if (!r) throw new Error(`quantize: no calibration range for tensor '${t}'`);
    const p = activationParams(r);
    actParams.set(t, p);
    const scale = names.take(`${t}_scale`);
    const zp = names.take(`${t}_zero_point`);
    newInits.push(makeFloatTensor(scale, [], [p.scale]), makeUint8Tensor(zp, [], [p.zeroPoint]));
    const qOut = names.take(`${t}_QuantizeLinear_Output`);
    let qIn = t;
    let dqOut: string;
    if (graphOutputs.has(t)) {
      qIn = names.take(`${t}_QuantizeLinear_Input`);
      renamedOutput.set(t, qIn);
      dqOut = t;
    } else {
      dqOut = names.take(`${t}_DequantizeLinear_Output`);
      dqName.set(t, dqOut);
    }
    qdqNodes.set(t, [
      makeNode('QuantizeLinear', [qIn, scale, zp], [qOut], names.take(`${t}_QuantizeLinear`)),
      makeNode('DequantizeLinear', [qOut, scale, zp], [dqOut], names.take(`${t}_DequantizeLinear`)),
    ]);
  }

  // Weights and biases.
  const weightDq = new Map<string, { out: string; scales: Float32Array; node: NodeProto; delta: Float32Array; dims: number[] }>();
  const before = new Map<NodeProto, NodeProto[]>(); // DQ nodes to emit right before a node
  const replaceInput = new Map<NodeProto, Map<number, string>>();
  const setInput = (n: NodeProto, i: number, name: string) => {
    let m = replaceInput.get(n);
    if (!m) replaceInput.set(n, (m = new Map()));
    m.set(i, name);
  };
  const pushBefore = (n: NodeProto, dq: NodeProto) => {
    const l = before.get(n);
    if (l) l.push(dq);
    else before.set(n, [dq]);
  };
  const biasDone = new Map<string, { out: string; key: string }>();
  for (const p of plan.nodes) {
    if (!p.weight) continue;
    const { name, axis: planAxis } = p.weight.plan;
    const axis = perChannel ? planAxis : -1;
    const key = `${name}@${axis}`;
    let wq = weightDq.get(key);
    if (!wq) {
      const w = inits.get(name)!;
      const wdims = dimsOf(w);
      const wf = floatData(w);
      const quant = quantizeWeight(wf, wdims, axis, qmax);
      const qn = names.take(`${name}_quantized`);
      const sn = names.take(`${name}_scale`);
      const zn = names.take(`${name}_zero_point`);
      const sdims = axis < 0 ? [] : [wdims[axis]];
      newInits.push(
        makeInt8Tensor(qn, wdims, quant.q),
        makeFloatTensor(sn, sdims, quant.scales),
        makeInt8Tensor(zn, sdims, new Int8Array(quant.scales.length)),
      );
      const out = names.take(`${name}_DequantizeLinear_Output`);
      const attrs = axis < 0 ? [] : [intAttr('axis', axis)];
      const node = makeNode('DequantizeLinear', [qn, sn, zn], [out], names.take(`${name}_DequantizeLinear`), attrs);
      // Rounding error of every weight (dequantized - float), for bias correction.
      const inner = axis < 0 ? wf.length : wdims.slice(axis + 1).reduce((a, b) => a * b, 1);
      const delta = new Float32Array(wf.length);
      for (let i = 0; i < wf.length; i++) {
        const c = axis < 0 ? 0 : Math.floor(i / inner) % wdims[axis];
        delta[i] = quant.q[i] * quant.scales[c] - wf[i];
      }
      wq = { out, scales: quant.scales, node, delta, dims: wdims };
      weightDq.set(key, wq);
      pushBefore(p.node, node);
    }
    setInput(p.node, p.weight.input, wq.out);
    if (!p.bias) continue;
    const mean = opts.biasCorrection === false ? undefined : channelMeans?.get(p.bias.activation);
    const corr = mean ? biasCorrectionTerm(p.node, wq.delta, wq.dims, mean) : undefined;
    const inScale = actParams.get(p.bias.activation)!.scale;
    // No bias and a correction that rounds to zero everywhere: add nothing.
    if (!p.bias.name && (!corr || corr.every((v, c) => Math.abs(v) < 0.5 * inScale * wq.scales[wq.scales.length === 1 ? 0 : c]))) continue;
    const key2 = `${p.bias.name}|${p.bias.activation}|${inScale}|${key}|${corr ? 'c' : ''}`;
    let done = p.bias.name ? biasDone.get(p.bias.name) : undefined;
    if (!done || done.key !== key2) {
      const nOut = wq.dims[p.node.opType === 'Conv' || attrInt(p.node, 'transB', 0) ? 0 : 1];
      const b = p.bias.name ? Float32Array.from(floatData(inits.get(p.bias.name)!)) : new Float32Array(nOut);
      if (corr) for (let c = 0; c < b.length; c++) b[c] -= corr[c];
      const bscale = new Float32Array(b.length);
      const bq = new Int32Array(b.length);
      for (let c = 0; c < b.length; c++) {
        const s = Math.fround(inScale * wq.scales[wq.scales.length === 1 ? 0 : c]);
        bscale[c] = s;
        bq[c] = Math.max(-2147483647, Math.min(2147483647, roundHalfEven(b[c] / s)));
      }
      const base = p.bias.name || `${p.node.name}_bias`;
      const qn = names.take(`${base}_quantized`);
      const sn = names.take(`${base}_scale`);
      const zn = names.take(`${base}_zero_point`);
      const perCh = wq.scales.length > 1;
      const sdims = perCh ? [b.length] : [];
      const scaleVals = perCh ? bscale : [bscale[0]];
      newInits.push(
        makeInt32Tensor(qn, [b.length], bq),
        makeFloatTensor(sn, sdims, scaleVals),
        makeInt32Tensor(zn, sdims, new Int32Array(scaleVals.length)),
      );
      const out = names.take(`${base}_DequantizeLinear_Output`);
      const attrs = perCh ? [intAttr('axis', 0)] : [];
      pushBefore(p.node, makeNode('DequantizeLinear', [qn, sn, zn], [out], names.take(`${base}_DequantizeLinear`), attrs));
      done = { out, key: key2 };
      if (p.bias.name) biasDone.set(p.bias.name, done);
    }
    while (p.node.input.length < p.bias.input) p.node.input.push('');
    if (p.node.input.length === p.bias.input) p.node.input.push('');
    setInput(p.node, p.bias.input, done.out);
  }

  // Folded Relus: the producer writes the Relu's output directly.
  const removed = new Set<NodeProto>();
  for (const [reluOut, { relu, producer }] of plan.foldedRelu) {
    removed.add(relu);
    producer.output[0] = reluOut;
  }

  // Rebuild the node list in topological order.
  const out: NodeProto[] = [];
  const emitted = new Set<string>();
  const emitQdqFor = (t: string) => {
    if (emitted.has(t) || !qdqNodes.has(t)) return;
    emitted.add(t);
    out.push(...qdqNodes.get(t)!);
  };
  for (const i of g.input) emitQdqFor(i.name ?? '');
  for (const n of g.node) {
    if (removed.has(n)) continue;
    out.push(...(before.get(n) ?? []));
    const repl = replaceInput.get(n);
    n.input = n.input.map((x, i) => repl?.get(i) ?? (x ? (dqName.get(x) ?? x) : x));
    n.output = n.output.map((o) => renamedOutput.get(o) ?? o);
    out.push(n);
    for (const o of n.output) {
      for (const [t, renamed] of renamedOutput) if (renamed === o) emitQdqFor(t);
      emitQdqFor(o);
    }
  }
  for (const t of plan.tensors)
    if (!emitted.has(t)) throw new Error(`quantize: internal error, no producer found for tensor '${t}'`);
  g.node = out;

  // Drop float initializers nothing reads any more; add the new ones.
  const used = new Set<string>();
  for (const n of g.node) for (const i of n.input) used.add(i);
  for (const o of g.output) used.add(o.name ?? '');
  g.initializer = g.initializer.filter((t) => used.has(t.name ?? ''));
  g.initializer.push(...newInits);
}
