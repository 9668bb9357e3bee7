/**
 * int8 QDQ quantizer over the ONNX protobuf (no Python on the tool path).
 *
 *   const res = await quantizeModel(fp32Bytes, calibrationSamples, { method: 'percentile' });
 *   writeFileAtomicSync(int8ModelPath('models', 'fr_feature'), res.bytes);
 *
 * Steps: decode; Constant nodes -> initializers; upgrade the default opset to 13 (per-channel
 * QDQ); plan which nodes and tensors to quantize; calibrate the float graph over the samples
 * (onnxruntime-node); insert QuantizeLinear / DequantizeLinear in onnxruntime's QDQ layout;
 * encode. Same inputs -> same bytes.
 */
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { CalibrationMethod, FeedSample, Range, RunOptions, TensorStats } from './calibrate.ts';
import { collectStats, exposeTensors, rangeFor, runSamples } from './calibrate.ts';
import type { ModelProto } from './onnx.ts';
import { decodeModel, encodeModel, ensureNodeNames } from './onnx.ts';
import { QDQ_MIN_OPSET, tensorsNeedingRank, upgradeOpset, type UpgradeReport } from './opset.ts';
import type { EmitOptions, PlanOptions, QdqPlan } from './qdq.ts';
import { constantsToInitializers, dropInitializerInputs, emitQdq, planQdq } from './qdq.ts';

export type { CalibrationMethod, FeedSample } from './calibrate.ts';
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
  inputBytes: number;
  outputBytes: number;
}

export interface QuantizeResult {
  bytes: Uint8Array;
  report: QuantizeReport;
}

/**
 * A model made ready for QDQ (upgraded, planned) and calibrated once; `build` then gives the
 * int8 model for any calibration method without running the float model again.
 */
export interface PreparedQuantization {
  plan: QdqPlan;
  stats: ReadonlyMap<string, TensorStats>;
  upgrade: UpgradeReport;
  /** The float model after the opset upgrade (what was calibrated). */
  floatBytes: Uint8Array;
  build(method: CalibrationMethod, opts?: { percentile?: number }): QuantizeResult;
}

/** Ranks of the named tensors from one float run (for the opset upgrade's Softmax check). */
async function probeRanks(model: ModelProto, tensors: string[], sample: FeedSample, run: RunOptions): Promise<Map<string, number>> {
  const ranks = new Map<string, number>();
  if (!tensors.length) return ranks;
  await runSamples(
    exposeTensors(model, tensors),
    [sample],
    (out) => {
      for (const t of tensors) if (out[t]) ranks.set(t, out[t].dims.length);
    },
    run,
  );
  return ranks;
}

export async function prepareQuantization(
  modelBytes: Uint8Array,
  calibration: readonly FeedSample[],
  opts: QuantizeOptions = {},
): Promise<PreparedQuantization> {
  if (!calibration.length) throw new Error('quantize: no calibration samples');
  const inputBytes = modelBytes.length;
  const model = decodeModel(modelBytes);
  const g = model.graph;
  ensureNodeNames(g);
  constantsToInitializers(g);
  dropInitializerInputs(g);
  if (opts.stripDocStrings !== false) {
    for (const n of g.node) delete n.docString;
    delete g.docString;
  }
  const needRank = tensorsNeedingRank(model);
  const ranks = needRank.length ? await probeRanks(decodeModel(modelBytes), needRank, calibration[0], opts) : undefined;
  const upgrade = upgradeOpset(model, QDQ_MIN_OPSET, { ranks });
  const floatBytes = encodeModel(model);
  const plan = planQdq(model, opts);
  if (!plan.nodes.length) throw new Error('quantize: nothing to quantize in this model');
  const stats = await collectStats(model, plan.tensors, calibration, { ...opts, minmaxOnly: false });
  return {
    plan,
    stats,
    upgrade,
    floatBytes,
    build(method, bopts = {}) {
      const percentile = bopts.percentile ?? opts.percentile ?? 99.99;
      const m = decodeModel(floatBytes);
      // Plan again on the fresh copy (node identities belong to that copy); same plan by construction.
      const p = planQdq(m, opts);
      const ranges = new Map<string, Range>();
      for (const t of p.tensors) {
        const s = stats.get(t);
        if (!s) throw new Error(`quantize: tensor '${t}' was not calibrated`);
        ranges.set(t, rangeFor(s, method, percentile));
      }
      emitQdq(m, p, ranges, opts);
      const meta = m.metadataProps ?? (m.metadataProps = []);
      const set = (key: string, value: string) => {
        const e = meta.find((x) => x.key === key);
        if (e) e.value = value;
        else meta.push({ key, value });
      };
      set('portier.quantizer', `int8-qdq/${QUANTIZER_VERSION}`);
      set('portier.calibration', method === 'percentile' ? `percentile:${percentile}` : method);
      set('portier.calibration_samples', String(calibration.length));
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
          inputBytes,
          outputBytes: bytes.length,
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

export interface OutputComparison {
  /** Mean over samples of ||q - f|| / ||f|| over all outputs concatenated (lower is better). */
  relError: number;
  /** Mean over samples of the cosine between q and f over all outputs concatenated. */
  cosine: number;
  /** Per output: mean cosine and mean relative error. */
  perOutput: Record<string, { cosine: number; relError: number; maxAbs: number }>;
}

/** Runs both models on `samples` and compares their outputs. */
export async function compareModels(
  floatBytes: Uint8Array,
  quantBytes: Uint8Array,
  samples: readonly FeedSample[],
  run: RunOptions = {},
): Promise<OutputComparison> {
  const ref: ort.InferenceSession.OnnxValueMapType[] = [];
  await runSamples(floatBytes, samples, (o) => ref.push(o), run);
  const names = Object.keys(ref[0] ?? {}).sort();
  const per: Record<string, { cos: number; rel: number; maxAbs: number }> = {};
  for (const n of names) per[n] = { cos: 0, rel: 0, maxAbs: 0 };
  let rel = 0;
  let cos = 0;
  await runSamples(
    quantBytes,
    samples,
    (o, i) => {
      let dd = 0;
      let ff = 0;
      let qq = 0;
      let fq = 0;
      for (const n of names) {
        const f = ref[i][n].data as Float32Array;
        const q = o[n]?.data as Float32Array | undefined;
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
    },
    run,
  );
  const k = samples.length;
  const perOutput: OutputComparison['perOutput'] = {};
  for (const n of names) perOutput[n] = { cosine: per[n].cos / k, relError: per[n].rel / k, maxAbs: per[n].maxAbs };
  return { relError: rel / k, cosine: cos / k, perOutput };
}

export interface MethodCandidate {
  method: CalibrationMethod;
  percentile?: number;
}

export interface AutoResult extends QuantizeResult {
  /** Every candidate tried, with its accuracy on the evaluation samples. */
  candidates: Array<MethodCandidate & { comparison: OutputComparison; bytes: number }>;
}

export const DEFAULT_CANDIDATES: readonly MethodCandidate[] = [
  { method: 'minmax' },
  { method: 'percentile', percentile: 99.99 },
  { method: 'percentile', percentile: 99.999 },
  { method: 'entropy' },
];

/**
 * Calibrates once, builds one int8 model per candidate method and keeps the one whose outputs
 * are closest to the float model's on `evaluation` samples (lowest mean relative error; ties go
 * to the earlier candidate). `score` can replace the criterion (lower is better).
 */
export async function quantizeModelAuto(
  modelBytes: Uint8Array,
  calibration: readonly FeedSample[],
  evaluation: readonly FeedSample[],
  opts: QuantizeOptions & {
    candidates?: readonly MethodCandidate[];
    score?: (c: OutputComparison) => number;
  } = {},
): Promise<AutoResult> {
  const prep = await prepareQuantization(modelBytes, calibration, opts);
  const score = opts.score ?? ((c: OutputComparison) => c.relError);
  const candidates: AutoResult['candidates'] = [];
  let best: { res: QuantizeResult; s: number } | undefined;
  for (const c of opts.candidates ?? DEFAULT_CANDIDATES) {
    const res = prep.build(c.method, { percentile: c.percentile });
    const comparison = await compareModels(prep.floatBytes, res.bytes, evaluation, opts);
    candidates.push({ ...c, comparison, bytes: res.bytes.length });
    const s = score(comparison);
    if (!best || s < best.s) best = { res, s };
  }
  return { ...best!.res, candidates };
}

// ------------------------------------------------------------------ file layout

/** `models/fr_feature.onnx` -> `models/fr_feature.int8.onnx`. */
export function int8ModelPath(modelDir: string, name: string): string {
  return join(modelDir, `${name}.int8.onnx`);
}

/** Sidecar written next to an int8 model: source hash, own hash, calibration used. */
export function int8ManifestPath(modelDir: string, name: string): string {
  return join(modelDir, `${name}.int8.json`);
}
