/**
 * Default-domain opset upgrade (9..12 -> 13), the minimum for per-channel QuantizeLinear /
 * DequantizeLinear (the `axis` attribute arrived in opset 13).
 *
 * Every default-domain op in the graph must be in one of two lists: ops whose semantics do not
 * change from the model's opset up to 13 (only new types or negative axes were added), and ops
 * that are rewritten here because an attribute became an input or the semantics changed. Any
 * other op stops the upgrade with an error naming it, rather than silently changing meaning.
 */
import type { GraphProto, Int64, ModelProto, NodeProto, TensorProto } from './onnx.ts';
import {
  NameAllocator,
  attrFloat,
  attrInt,
  attrString,
  defaultOpset,
  ensureNodeNames,
  getAttr,
  intAttr,
  isDefaultDomain,
  makeFloatTensor,
  makeNode,
  nodeLabel,
  removeAttr,
  stringAttr,
  toNum,
} from './onnx.ts';
import { DataType } from './onnx-schema.ts';

export const QDQ_MIN_OPSET = 13;

/** Ops whose behaviour on the tensors these models carry is the same at every version 9..13. */
const UNCHANGED = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh', 'AveragePool',
  'BatchNormalization', 'BitShift', 'Cast', 'Ceil', 'Celu', 'Compress', 'Concat', 'Constant', 'ConstantOfShape', 'Conv',
  'ConvInteger', 'ConvTranspose', 'Cos', 'Cosh', 'CumSum', 'DepthToSpace', 'DequantizeLinear', 'Det', 'Div', 'Einsum',
  'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'EyeLike', 'Flatten', 'Floor', 'Gather', 'GatherElements', 'GatherND', 'Gemm',
  'GlobalAveragePool', 'GlobalLpPool', 'GlobalMaxPool', 'Greater', 'GreaterOrEqual', 'HardSigmoid', 'Identity',
  'InstanceNormalization', 'IsInf', 'IsNaN', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log', 'LpNormalization', 'LpPool',
  'LRN', 'MatMul', 'MatMulInteger', 'Max', 'MaxPool', 'MaxRoiPool', 'MaxUnpool', 'Mean', 'MeanVarianceNormalization',
  'Min', 'Mod', 'Mul', 'Multinomial', 'Neg', 'NonMaxSuppression', 'NonZero', 'Not', 'OneHot', 'Or', 'Pow', 'PRelu',
  'QLinearConv', 'QLinearMatMul', 'QuantizeLinear', 'Range', 'Reciprocal', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
  'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare', 'Relu', 'Reshape',
  'ReverseSequence', 'RoiAlign', 'Round', 'Selu', 'Shape', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Size',
  'Softplus', 'Softsign', 'SpaceToDepth', 'Sqrt', 'Sub', 'Sum', 'Tan', 'Tanh', 'ThresholdedRelu', 'Tile', 'Transpose',
  'Where', 'Xor',
]);

/** Ops rewritten by this module (attribute -> input moves, changed semantics). */
const REWRITTEN = new Set([
  'Unsqueeze', 'Squeeze', 'ReduceSum', 'Split', 'Slice', 'Clip', 'Pad', 'TopK', 'Dropout', 'Softmax', 'LogSoftmax',
  'Hardmax', 'Upsample', 'Resize',
]);

/** Ops or versions this upgrader handles; exported for documentation and tests. */
export const UPGRADABLE_OPS: readonly string[] = [...UNCHANGED, ...REWRITTEN].sort();

export interface UpgradeOptions {
  /** Rank of tensors, where known (used to keep Softmax-family nodes as they are). */
  ranks?: ReadonlyMap<string, number>;
}

export interface UpgradeReport {
  from: number;
  to: number;
  /** `opType node 'name': what changed` for every rewritten node. */
  rewritten: string[];
}

/** Longs in attributes become exact int64 initializers (INT64_MAX must survive). */
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
function toBig(v: Int64): bigint {
  const b = typeof v === 'number' ? BigInt(Math.trunc(v)) : BigInt(String(v));
  return b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b;
}
function int64Tensor(name: string, values: readonly Int64[]): TensorProto {
  const arr = BigInt64Array.from(values, toBig);
  return { name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(arr.buffer).slice() };
}

/**
 * Upgrades the default-domain opset in place. Returns what changed. Throws, naming the op and
 * node, when an op cannot be upgraded safely.
 */
export function upgradeOpset(model: ModelProto, target = QDQ_MIN_OPSET, opts: UpgradeOptions = {}): UpgradeReport {
  const from = defaultOpset(model);
  const report: UpgradeReport = { from, to: Math.max(from, target), rewritten: [] };
  if (from >= target) return report;
  if (from < 9) throw new Error(`opset ${from} models are not supported (the upgrade starts at opset 9)`);
  const g = model.graph;
  ensureNodeNames(g);
  checkSubgraphs(g);
  for (const n of g.node) {
    if (!isDefaultDomain(n)) continue;
    const op = n.opType ?? '';
    if (op === 'BatchNormalization' && n.output.filter(Boolean).length > 1) {
      throw new Error(`cannot upgrade ${nodeLabel(n)}: training-mode BatchNormalization (several outputs) is not supported`);
    }
    if (!UNCHANGED.has(op) && !REWRITTEN.has(op)) {
      throw new Error(
        `cannot upgrade ${nodeLabel(n)} from opset ${from} to ${target}: '${op}' is not in the list of ops whose ` +
          `semantics are known to be kept or rewritten (scripts/quantize/opset.ts)`,
      );
    }
  }
  const names = new NameAllocator(g);
  const newInits: TensorProto[] = [];
  const out: NodeProto[] = [];
  const note = (n: NodeProto, what: string) => report.rewritten.push(`${nodeLabel(n)}: ${what}`);
  const addInit = (t: TensorProto): string => {
    newInits.push(t);
    return t.name!;
  };
  for (const n of g.node) {
    if (!isDefaultDomain(n) || UNCHANGED.has(n.opType ?? '')) {
      out.push(n);
      continue;
    }
    const op = n.opType!;
    const base = n.name!;
    switch (op) {
      case 'Unsqueeze':
      case 'Squeeze':
      case 'ReduceSum': {
        // opset 13: axes is an input
        const a = getAttr(n, 'axes');
        if (a) {
          removeAttr(n, 'axes');
          const t = addInit(int64Tensor(names.take(`${base}_axes`), a.ints ?? []));
          n.input = [n.input[0], t];
          note(n, 'axes attribute -> input');
        }
        out.push(n);
        break;
      }
      case 'Split': {
        const a = getAttr(n, 'split');
        if (a) {
          removeAttr(n, 'split');
          n.input = [n.input[0], addInit(int64Tensor(names.take(`${base}_split`), a.ints ?? []))];
          note(n, 'split attribute -> input');
        }
        out.push(n);
        break;
      }
      case 'Slice': {
        if (from >= 10) {
          out.push(n);
          break;
        }
        // opset 10: starts/ends/axes are inputs
        const starts = getAttr(n, 'starts')?.ints ?? [];
        const ends = getAttr(n, 'ends')?.ints ?? [];
        const axes = getAttr(n, 'axes')?.ints;
        for (const k of ['starts', 'ends', 'axes']) removeAttr(n, k);
        const inputs = [
          n.input[0],
          addInit(int64Tensor(names.take(`${base}_starts`), starts)),
          addInit(int64Tensor(names.take(`${base}_ends`), ends)),
        ];
        if (axes) inputs.push(addInit(int64Tensor(names.take(`${base}_axes`), axes)));
        n.input = inputs;
        note(n, 'starts/ends/axes attributes -> inputs');
        out.push(n);
        break;
      }
      case 'Clip': {
        if (from >= 11) {
          out.push(n);
          break;
        }
        const lo = attrFloat(n, 'min');
        const hi = attrFloat(n, 'max');
        removeAttr(n, 'min');
        removeAttr(n, 'max');
        const inputs = [n.input[0], '', ''];
        if (lo !== undefined) inputs[1] = addInit(makeFloatTensor(names.take(`${base}_min`), [], [lo]));
        if (hi !== undefined) inputs[2] = addInit(makeFloatTensor(names.take(`${base}_max`), [], [hi]));
        while (inputs.length > 1 && inputs[inputs.length - 1] === '') inputs.pop();
        n.input = inputs;
        note(n, 'min/max attributes -> inputs');
        out.push(n);
        break;
      }
      case 'Pad': {
        if (from >= 11) {
          out.push(n);
          break;
        }
        const pads = getAttr(n, 'pads')?.ints ?? [];
        const value = attrFloat(n, 'value') ?? 0;
        removeAttr(n, 'pads');
        removeAttr(n, 'value');
        n.input = [
          n.input[0],
          addInit(int64Tensor(names.take(`${base}_pads`), pads)),
          addInit(makeFloatTensor(names.take(`${base}_value`), [], [value])),
        ];
        note(n, 'pads/value attributes -> inputs');
        out.push(n);
        break;
      }
      case 'TopK': {
        if (from >= 10) {
          out.push(n);
          break;
        }
        const k = getAttr(n, 'k')?.i ?? 0;
        removeAttr(n, 'k');
        n.input = [n.input[0], addInit(int64Tensor(names.take(`${base}_k`), [k]))];
        note(n, 'k attribute -> input');
        out.push(n);
        break;
      }
      case 'Dropout': {
        // Inference: identity. From opset 12 the ratio is an input; the default (0.5) is fine.
        if (getAttr(n, 'ratio')) {
          removeAttr(n, 'ratio');
          note(n, 'ratio attribute dropped (identity at inference)');
        }
        out.push(n);
        break;
      }
      case 'Softmax':
      case 'LogSoftmax':
      case 'Hardmax': {
        // Before 13: the input is flattened to 2-D at `axis` (default 1) and normalised over the
        // whole trailing block. From 13: over the single axis (default -1). Same result when
        // `axis` is the last axis.
        const axis = attrInt(n, 'axis', 1);
        const rank = opts.ranks?.get(n.input[0]);
        if (axis === -1 || (rank !== undefined && (axis === rank - 1 || axis === -1))) {
          if (!getAttr(n, 'axis')) n.attribute.push(intAttr('axis', axis));
          out.push(n);
          break;
        }
        // General rewrite: Flatten(axis) -> op(axis=1) -> Reshape(back to Shape(x)).
        const x = n.input[0];
        const y = n.output[0];
        const shape = names.take(`${base}_in_shape`);
        const flat = names.take(`${base}_flat`);
        const res = names.take(`${base}_flat_out`);
        out.push(makeNode('Shape', [x], [shape], names.take(`${base}_Shape`)));
        out.push(makeNode('Flatten', [x], [flat], names.take(`${base}_Flatten`), [intAttr('axis', axis)]));
        out.push(makeNode(op, [flat], [res], base, [intAttr('axis', 1)]));
        out.push(makeNode('Reshape', [res, shape], [y], names.take(`${base}_Reshape`)));
        note(n, `pre-13 ${op} over the flattened block from axis ${axis}: rewritten as Flatten/${op}/Reshape`);
        break;
      }
      case 'Upsample':
      case 'Resize': {
        if (op === 'Resize' && from >= 11) {
          out.push(n);
          break;
        }
        // Upsample-9 / Resize-10: inputs (X, scales), attribute mode; coordinates are
        // "asymmetric" and nearest rounds down. Resize-13 says so explicitly.
        const mode = attrString(n, 'mode') ?? 'nearest';
        if (mode !== 'nearest' && mode !== 'linear') {
          throw new Error(`cannot upgrade ${nodeLabel(n)}: mode '${mode}' is not supported`);
        }
        const attrs = [
          stringAttr('mode', mode),
          stringAttr('coordinate_transformation_mode', 'asymmetric'),
        ];
        if (mode === 'nearest') attrs.push(stringAttr('nearest_mode', 'floor'));
        let scales = n.input[1];
        if (!scales) {
          const s = getAttr(n, 'scales')?.floats; // Upsample-7 form
          if (!s) throw new Error(`cannot upgrade ${nodeLabel(n)}: no scales`);
          scales = addInit(makeFloatTensor(names.take(`${base}_scales`), [s.length], s));
        }
        out.push(makeNode('Resize', [n.input[0], '', scales], n.output, base, attrs));
        note(n, `${op}(${from}) -> Resize-13 (asymmetric${mode === 'nearest' ? ', floor' : ''})`);
        break;
      }
      default:
        out.push(n);
    }
  }
  g.node = out;
  g.initializer.push(...newInits);
  for (const o of model.opsetImport) if (!o.domain || o.domain === 'ai.onnx') o.version = target;
  // opset 13 needs IR version 7.
  if (toNum(model.irVersion) < 7) model.irVersion = 7;
  report.to = target;
  return report;
}

function checkSubgraphs(g: GraphProto): void {
  for (const n of g.node)
    for (const a of n.attribute)
      if (a.g || (a.graphs && a.graphs.length))
        throw new Error(`cannot upgrade ${nodeLabel(n)}: nodes with subgraphs (If/Loop/Scan) are not supported`);
}

/** Tensors whose rank the upgrade would like to know (inputs of pre-13 Softmax-family nodes). */
export function tensorsNeedingRank(model: ModelProto): string[] {
  if (defaultOpset(model) >= 13) return [];
  return model.graph.node
    .filter((n) => isDefaultDomain(n) && ['Softmax', 'LogSoftmax', 'Hardmax'].includes(n.opType ?? ''))
    .filter((n) => attrInt(n, 'axis', 1) !== -1)
    .map((n) => n.input[0]);
}
