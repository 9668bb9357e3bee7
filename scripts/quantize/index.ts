/**
 * int8 QDQ quantizer over the ONNX protobuf (no Python on the tool path).
 *
 *   const res = await quantizeModel(fp32Bytes, calibrationSamples, { method: 'percentile' });
 *   writeFileAtomicSync(int8ModelPath('models', 'fr_feature'), res.bytes);
 *
 * Steps: decode; Constant nodes -> initializers, identical constants shared; upgrade the
 * default opset to 13 (per-channel QDQ; opset.ts); equalize channel ranges ahead of depthwise
 * convolutions (equalize.ts); rewrite PRelu so that it runs in int8 (qdq.ts, decomposePRelu);
 * plan which nodes and tensors to quantize; calibrate the float graph over the samples
 * (onnxruntime-node, calibrate.ts); insert QuantizeLinear / DequantizeLinear in onnxruntime's
 * QDQ layout with bias correction (qdq.ts); encode. Same inputs -> same bytes.
 *
 * quantizeModelAuto tries several calibration methods and graph variants and keeps the one
 * closest to the float model on held-out inputs; scripts/quantize.ts drives it for the four
 * vision models with inputs captured from the vision engine (inputs.ts).
 */
import { createHash } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import type { CalibrationMethod, CalibrationSource, FeedSample, Range, RunOptions } from './calibrate.ts';
import { runSamples, samplesSource } from './calibrate.ts';
import { encodeF64, recordedSource, type CalibrationRecord } from './record.ts';
import { decodeModel, encodeModel, ensureNodeNames } from './onnx.ts';
import { equalizePairs, findEqualizePairs } from './equalize.ts';
import { QDQ_MIN_OPSET, tensorsNeedingRank, upgradeOpset, type UpgradeReport } from './opset.ts';
import type { EmitOptions, PlanOptions, QdqPlan } from './qdq.ts';
import { SUPPORTED_OPS, constantsToInitializers, decomposePRelu, dedupeInitializers, dropInitializerInputs, emitQdq, planQdq } from './qdq.ts';

export type { CalibrationMethod, FeedSample } from './calibrate.ts';
export type { CalibrationRecord } from './record.ts';
export { SUPPORTED_OPS, UNSUPPORTED_WEIGHTED_OPS, UnsupportedOpError } from './qdq.ts';
export { upgradeOpset, UPGRADABLE_OPS } from './opset.ts';

export const QUANTIZER_VERSION = '1';

export interface QuantizeOptions extends PlanOptions, EmitOptions, RunOptions {
  /** Calibration method (default 'minmax'). */
  method?: CalibrationMethod;
  /** Percentile for method 'percentile' (default 99.99). */
  percentile?: number;
  /** Drop doc strings (PyTorch puts stack traces there; default true). */
  stripDocStrings?: boolean;
  /**
   * Rewrite PRelu after a Conv as x + Relu(1x1 depthwise conv (s - 1) of x), so it runs in int8
   * (default true; see decomposePRelu in qdq.ts).
   */
  decomposePRelu?: boolean;
  /**
   * Equalize channel ranges between a Conv and the depthwise Conv it feeds (default true; see
   * equalize.ts). Costs one extra MinMax pass over the calibration inputs.
   */
  equalize?: boolean;
  /** Also equalize into dense (group 1) Convs, this far (0..1; default 0 = depthwise only). */
  equalizeDenseStrength?: number;
  /** Per-channel figure brought level: largest |value| (default) or root mean square. */
  equalizeBy?: 'absmax' | 'rms';
}

export interface QuantizeReport {
  method: CalibrationMethod;
  percentile?: number;
  opset: UpgradeReport;
  /** Quantized nodes by op type. */
  quantizedNodes: Record<string, number>;
  /** Activation tensors with a QDQ pair. */
  activations: number;
  foldedRelu: number;
  /** PRelu nodes rewritten to run in int8. */
  preluRewritten: number;
  /** Conv -> depthwise Conv pairs equalized. */
  equalizedPairs: number;
  /** Nodes kept float on request. */
  excludedNodes: string[];
  inputBytes: number;
  outputBytes: number;
}

export interface QuantizeResult {
  bytes: Uint8Array;
  report: QuantizeReport;
  /**
   * What calibration measured that these bytes depend on: with it (recordedSource, record.ts)
   * the same bytes can be built again from the float model without the calibration inputs.
   */
  calibration: CalibrationRecord;
}

/**
 * A model made ready for QDQ (upgraded, planned) and calibrated once; `build` then gives the
 * int8 model for any calibration method without running the float model again.
 */
export interface PreparedQuantization {
  plan: QdqPlan;
  upgrade: UpgradeReport;
  /** PRelu nodes rewritten for int8 (decomposePRelu). */
  preluRewritten: string[];
  /** Conv -> depthwise Conv pairs whose channels were equalized. */
  equalized: number;
  /** The float model after the opset upgrade and rewrites (what was calibrated). */
  floatBytes: Uint8Array;
  /** `excludeNodes` here adds to the prepared options (the plan may only shrink). */
  build(
    method: CalibrationMethod,
    opts?: { percentile?: number; excludeNodes?: readonly string[]; biasCorrection?: boolean },
  ): QuantizeResult;
}

export async function prepareQuantization(
  modelBytes: Uint8Array,
  calibration: readonly FeedSample[],
  opts: QuantizeOptions = {},
): Promise<PreparedQuantization> {
  return (await prepare(modelBytes, samplesSource(modelBytes, calibration, opts), opts))!;
}

/**
 * As prepareQuantization, from a recorded calibration instead of inputs: no model run, and
 * `build` with the recipe's method gives the bytes the recorded run gave (the ranges in the
 * record are those of that method; another method's name only changes the metadata).
 */
export async function prepareFromRecord(
  modelBytes: Uint8Array,
  record: CalibrationRecord,
  opts: QuantizeOptions = {},
): Promise<PreparedQuantization> {
  return (await prepare(modelBytes, recordedSource(record), opts))!;
}

/** `shouldCalibrate` sees the float graph before the (costly) calibration and can skip it. */
async function prepare(
  modelBytes: Uint8Array,
  source: CalibrationSource,
  opts: QuantizeOptions,
  shouldCalibrate?: (floatBytes: Uint8Array) => boolean,
): Promise<PreparedQuantization | undefined> {
  const inputBytes = modelBytes.length;
  const model = decodeModel(modelBytes);
  const g = model.graph;
  ensureNodeNames(g);
  constantsToInitializers(g);
  dropInitializerInputs(g);
  dedupeInitializers(g);
  if (opts.stripDocStrings !== false) {
    for (const n of g.node) delete n.docString;
    delete g.docString;
  }
  const needRank = tensorsNeedingRank(model);
  const ranks = needRank.length ? await source.ranks(needRank) : undefined;
  const upgrade = upgradeOpset(model, QDQ_MIN_OPSET, { ranks });
  let equalized = 0;
  const figures = new Map<string, Float64Array>();
  if (opts.equalize !== false) {
    const dense = (opts.equalizeDenseStrength ?? 0) > 0;
    const pairs = findEqualizePairs(g, new Set(opts.excludeNodes ?? []), dense);
    if (pairs.length) {
      const tensors = [...new Set(pairs.map((p) => p.tensor))];
      for (const [t, v] of await source.channelFigures(model, tensors, opts.equalizeBy ?? 'absmax')) figures.set(t, v);
      equalized = equalizePairs(g, pairs, figures, { denseStrength: opts.equalizeDenseStrength });
    }
  }
  const opTypes: readonly string[] = opts.opTypes ?? SUPPORTED_OPS;
  const preluRewritten =
    opts.decomposePRelu !== false && opTypes.includes('Conv') && opTypes.includes('Add')
      ? decomposePRelu(g, new Set(opts.excludeNodes ?? []))
      : [];
  const floatBytes = encodeModel(model);
  if (shouldCalibrate && !shouldCalibrate(floatBytes)) return undefined;
  const plan = planQdq(model, opts);
  if (!plan.nodes.length) throw new Error('quantize: nothing to quantize in this model');
  const measured = await source.measure(model, plan.tensors);
  return {
    plan,
    upgrade,
    preluRewritten,
    equalized,
    floatBytes,
    build(method, bopts = {}) {
      const percentile = bopts.percentile ?? opts.percentile ?? 99.99;
      const m = decodeModel(floatBytes);
      // Plan again on the fresh copy (node identities belong to that copy); same plan by construction.
      const planOpts = bopts.excludeNodes?.length
        ? { ...opts, excludeNodes: [...(opts.excludeNodes ?? []), ...bopts.excludeNodes] }
        : opts;
      const p = planQdq(m, planOpts);
      const ranges = new Map<string, Range>();
      for (const t of p.tensors) {
        const r = measured.range(t, method, percentile);
        if (!r) throw new Error(`quantize: tensor '${t}' was not calibrated`);
        ranges.set(t, r);
      }
      // Only the inputs of nodes whose bias gets corrected need their channel means.
      const biasCorrection = bopts.biasCorrection ?? opts.biasCorrection;
      const means = new Map<string, Float64Array>();
      if (biasCorrection !== false) {
        for (const n of p.nodes) {
          const mean = n.bias ? measured.mean(n.bias.activation) : undefined;
          if (mean) means.set(n.bias!.activation, mean);
        }
      }
      emitQdq(m, p, ranges, { ...opts, biasCorrection }, means);
      const excluded = planOpts.excludeNodes ?? [];
      const meta = m.metadataProps ?? (m.metadataProps = []);
      const set = (key: string, value: string) => {
        const e = meta.find((x) => x.key === key);
        if (e) e.value = value;
        else meta.push({ key, value });
      };
      set('portier.quantizer', `int8-qdq/${QUANTIZER_VERSION}`);
      set('portier.calibration', method === 'percentile' ? `percentile:${percentile}` : method);
      set('portier.calibration_samples', String(source.samples));
      const bytes = encodeModel(m);
      const quantizedNodes: Record<string, number> = {};
      for (const n of p.nodes) quantizedNodes[n.node.opType!] = (quantizedNodes[n.node.opType!] ?? 0) + 1;
      return {
        bytes,
        report: {
          method,
          percentile: method === 'percentile' ? percentile : undefined,
          opset: upgrade,
          quantizedNodes: Object.fromEntries(Object.entries(quantizedNodes).sort()),
          activations: p.tensors.length,
          foldedRelu: p.foldedRelu.size,
          preluRewritten: preluRewritten.length,
          equalizedPairs: equalized,
          excludedNodes: [...excluded],
          inputBytes,
          outputBytes: bytes.length,
        },
        calibration: {
          samples: source.samples,
          ranks: Object.fromEntries(ranks ?? []),
          equalization: Object.fromEntries([...figures].map(([t, v]) => [t, encodeF64(v)])),
          ranges: Object.fromEntries(p.tensors.map((t) => [t, [ranges.get(t)!.min, ranges.get(t)!.max]])),
          channelMeans: Object.fromEntries([...means].map(([t, v]) => [t, encodeF64(v)])),
        },
      };
    },
  };
}

/**
 * Quantizes an fp32 ONNX model to int8 QDQ. `calibration`: real preprocessed model inputs
 * (graph input name -> tensor). Deterministic for the same model, samples and options.
 */
export async function quantizeModel(
  modelBytes: Uint8Array,
  calibration: readonly FeedSample[],
  opts: QuantizeOptions = {},
): Promise<QuantizeResult> {
  const prep = await prepareQuantization(modelBytes, calibration, opts);
  return prep.build(opts.method ?? 'minmax', { percentile: opts.percentile });
}

// ------------------------------------------------------------------ evaluation

export type OutputMap = Record<string, Float32Array>;

export interface OutputComparison {
  /** Mean over samples of ||q - f|| / ||f|| over all outputs concatenated (lower is better). */
  relError: number;
  /** Mean over samples of the cosine between q and f over all outputs concatenated. */
  cosine: number;
  /** Per output: mean cosine, mean relative error, largest absolute difference. */
  perOutput: Record<string, { cosine: number; relError: number; maxAbs: number }>;
  /** Mean of the caller's `metric`, when one was given. */
  custom?: number;
  samples: number;
}

const asOutputMap = (o: ort.InferenceSession.OnnxValueMapType): OutputMap =>
  Object.fromEntries(Object.keys(o).map((k) => [k, o[k].data as Float32Array]));

/** A model's outputs on each sample (a reference to compare several quantized models against). */
export async function modelOutputs(modelBytes: Uint8Array, samples: readonly FeedSample[], run: RunOptions = {}): Promise<OutputMap[]> {
  const out: OutputMap[] = [];
  await runSamples(modelBytes, samples, (o) => out.push(asOutputMap(o)), run);
  return out;
}

/**
 * Runs both models on `samples` (or takes the float model's outputs as given) and compares
 * their outputs. `metric(float, quant)` adds a
 * model-specific figure (e.g. difference of the live probability), averaged over samples.
 */
export async function compareModels(
  floatBytes: Uint8Array | readonly OutputMap[],
  quantBytes: Uint8Array,
  samples: readonly FeedSample[],
  run: RunOptions & { metric?: (f: OutputMap, q: OutputMap) => number } = {},
): Promise<OutputComparison> {
  if (!samples.length) throw new Error('compare: no samples');
  const ref = floatBytes instanceof Uint8Array ? await modelOutputs(floatBytes, samples, run) : floatBytes;
  if (ref.length !== samples.length) throw new Error('compare: reference outputs and samples differ in number');
  const names = Object.keys(ref[0]).sort();
  const per: Record<string, { cos: number; rel: number; maxAbs: number }> = {};
  for (const n of names) per[n] = { cos: 0, rel: 0, maxAbs: 0 };
  let rel = 0;
  let cos = 0;
  let custom = 0;
  await runSamples(
    quantBytes,
    samples,
    (o, i) => {
      const qm = asOutputMap(o);
      let dd = 0;
      let ff = 0;
      let qq = 0;
      let fq = 0;
      for (const n of names) {
        const f = ref[i][n];
        const q = qm[n];
        if (!q || q.length !== f.length) throw new Error(`compare: output '${n}' differs in shape`);
        let d1 = 0;
        let f1 = 0;
        let q1 = 0;
        let fq1 = 0;
        let mx = 0;
        for (let k = 0; k < f.length; k++) {
          const d = q[k] - f[k];
          d1 += d * d;
          f1 += f[k] * f[k];
          q1 += q[k] * q[k];
          fq1 += f[k] * q[k];
          if (Math.abs(d) > mx) mx = Math.abs(d);
        }
        per[n].cos += f1 > 0 && q1 > 0 ? fq1 / Math.sqrt(f1 * q1) : f1 === q1 ? 1 : 0;
        per[n].rel += f1 > 0 ? Math.sqrt(d1 / f1) : Math.sqrt(d1);
        per[n].maxAbs = Math.max(per[n].maxAbs, mx);
        dd += d1;
        ff += f1;
        qq += q1;
        fq += fq1;
      }
      rel += ff > 0 ? Math.sqrt(dd / ff) : Math.sqrt(dd);
      cos += ff > 0 && qq > 0 ? fq / Math.sqrt(ff * qq) : 1;
      if (run.metric) custom += run.metric(ref[i], qm);
    },
    run,
  );
  const k = samples.length;
  const perOutput: OutputComparison['perOutput'] = {};
  for (const n of names) perOutput[n] = { cosine: per[n].cos / k, relError: per[n].rel / k, maxAbs: per[n].maxAbs };
  return { relError: rel / k, cosine: cos / k, perOutput, custom: run.metric ? custom / k : undefined, samples: k };
}

export interface MethodCandidate {
  method: CalibrationMethod;
  percentile?: number;
  /** Nodes this candidate keeps float (on top of the options' excludeNodes). */
  excludeNodes?: readonly string[];
}

/**
 * Options that change the float graph before calibration (one calibration each), and a factor
 * on the score of its candidates (above 1: this variant must be that much more accurate to win,
 * e.g. because its model runs slower).
 */
export type PrepareVariant = Pick<QuantizeOptions, 'equalize' | 'equalizeBy' | 'equalizeDenseStrength' | 'decomposePRelu'> & {
  scoreFactor?: number;
};

export interface CandidateResult extends MethodCandidate {
  variant: PrepareVariant;
  comparison: OutputComparison;
  /** The figure candidates were ranked by (lower is better), tie-breaker included. */
  score: number;
  bytes: number;
}

export interface AutoResult extends QuantizeResult {
  /** Every candidate tried, with its accuracy on the evaluation samples. */
  candidates: CandidateResult[];
  chosen: CandidateResult;
}

export const DEFAULT_CANDIDATES: readonly MethodCandidate[] = [
  { method: 'minmax' },
  { method: 'percentile', percentile: 99.99 },
  { method: 'percentile', percentile: 99.999 },
  { method: 'entropy' },
];

/**
 * With and without channel equalization (it helps most models, not all); with PRelu in int8
 * (decomposePRelu) and, at a 1.5x score handicap since it runs about twice slower on PRelu
 * networks, with PRelu left float between DequantizeLinear and QuantizeLinear.
 */
export const DEFAULT_VARIANTS: readonly PrepareVariant[] = [
  { equalize: true },
  { equalize: false },
  { equalize: true, decomposePRelu: false, scoreFactor: 1.5 },
  { equalize: false, decomposePRelu: false, scoreFactor: 1.5 },
];

/** Conv nodes reading a graph input directly (the first layer, which sees raw pixels). */
export function inputConvNodes(modelBytes: Uint8Array): string[] {
  const m = decodeModel(modelBytes);
  ensureNodeNames(m.graph);
  const inputs = new Set(m.graph.input.map((i) => i.name));
  return m.graph.node.filter((n) => n.opType === 'Conv' && inputs.has(n.input[0])).map((n) => n.name!);
}

/**
 * For each variant (graph preparation), calibrates once and builds one int8 model per
 * candidate; keeps the one whose outputs are closest to the input model's on `evaluation`
 * samples. The criterion is `score` (lower is better; default: mean relative output error); a
 * candidate keeping nodes float pays `floatNodePenalty` (default 10%) of its score per node, so
 * it wins only by a clear margin. Ties go to the earlier candidate.
 */
export async function quantizeModelAuto(
  modelBytes: Uint8Array,
  calibration: readonly FeedSample[],
  evaluation: readonly FeedSample[],
  opts: QuantizeOptions & {
    candidates?: readonly MethodCandidate[];
    variants?: readonly PrepareVariant[];
    score?: (c: OutputComparison) => number;
    metric?: (f: OutputMap, q: OutputMap) => number;
    floatNodePenalty?: number;
    onCandidate?: (c: CandidateResult) => void;
  } = {},
): Promise<AutoResult> {
  const score = opts.score ?? ((c: OutputComparison) => c.relError);
  const penalty = opts.floatNodePenalty ?? 0.1;
  // Against the untouched input model: the opset upgrade and rewrites are part of what is judged.
  const reference = await modelOutputs(modelBytes, evaluation, opts);
  const candidates: CandidateResult[] = [];
  let best: { res: QuantizeResult; c: CandidateResult } | undefined;
  const seen = new Set<string>();
  for (const variant of opts.variants ?? [{}]) {
    // Variants that leave this model's float graph the same (no PRelu to rewrite, say) are
    // calibrated once.
    const { scoreFactor = 1, ...graphOpts } = variant;
    const prep = await prepare(modelBytes, samplesSource(modelBytes, calibration, opts), { ...opts, ...graphOpts }, (floatBytes) => {
      const key = createHash('sha256').update(floatBytes).digest('hex');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (!prep) continue;
    for (const c of opts.candidates ?? DEFAULT_CANDIDATES) {
      const res = prep.build(c.method, { percentile: c.percentile, excludeNodes: c.excludeNodes });
      const comparison = await compareModels(reference, res.bytes, evaluation, { ...opts, metric: opts.metric });
      const s = score(comparison) * (1 + penalty * (c.excludeNodes?.length ?? 0)) * scoreFactor;
      const entry: CandidateResult = { ...c, variant, comparison, score: s, bytes: res.bytes.length };
      candidates.push(entry);
      opts.onCandidate?.(entry);
      if (!best || s < best.c.score) best = { res, c: entry };
    }
  }
  return { ...best!.res, candidates, chosen: best!.c };
}

// ------------------------------------------------------------------ file layout

export { Int8ModelError, int8ManifestPath, int8ModelPath, loadInt8Model, type Int8Manifest } from '../../core/models/artifact.ts';
