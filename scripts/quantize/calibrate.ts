/**
 * Calibration: run the float model with the tensors to quantize exposed as graph outputs
 * (onnxruntime-node, in memory) over calibration inputs, and turn what they hold into ranges.
 *
 * Two passes: the first finds each tensor's min and max, the second fills a fixed histogram over
 * [min, max] (skipped when only MinMax is asked for). From those:
 * - minmax: [min, max];
 * - percentile (p): cut (100 - p) / 2 percent of the values on each side;
 * - entropy: the clipping range whose 8-bit quantization loses the least information
 *   (KL divergence between the histogram and its quantized version, as TensorRT does).
 */
import * as ort from 'onnxruntime-node';
import type { ModelProto } from './onnx.ts';
import { decodeModel, encodeModel, tensorValueInfo } from './onnx.ts';
import { DataType } from './onnx-schema.ts';

/** One model run's inputs: graph input name -> float tensor. */
export type FeedSample = Record<string, { data: Float32Array; dims: readonly number[] }>;

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';

export interface TensorStats {
  min: number;
  max: number;
  /** Histogram over [min, max] (absent when only MinMax ran). */
  hist?: Float64Array;
  /** Dims seen on the first sample. */
  dims: number[];
  /** Mean of each channel (axis 1), over all samples and positions. */
  channelMean?: Float64Array;
  /** Largest |value| of each channel (axis 1). */
  channelAbsMax?: Float64Array;
  /** Root mean square of each channel (axis 1). */
  channelRms?: Float64Array;
}

export interface RunOptions {
  /** intra-op threads for calibration runs (default 2). */
  threads?: number;
}

export const HIST_BINS = 4096;

function sessionOptions(threads = 2): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  };
}

export function toFeeds(sample: FeedSample): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const k of Object.keys(sample).sort()) feeds[k] = new ort.Tensor('float32', sample[k].data, [...sample[k].dims]);
  return feeds;
}

/** Copy of `model` with `tensors` added as (float) graph outputs. */
export function exposeTensors(model: ModelProto, tensors: readonly string[]): Uint8Array {
  const copy = decodeModel(encodeModel(model));
  const have = new Set(copy.graph.output.map((o) => o.name));
  for (const t of tensors) if (!have.has(t)) copy.graph.output.push(tensorValueInfo(t, DataType.FLOAT));
  return encodeModel(copy);
}

/** Runs `modelBytes` on every sample, handing each run's outputs to `visit` (sequentially). */
export async function runSamples(
  modelBytes: Uint8Array,
  samples: readonly FeedSample[],
  visit: (outputs: ort.InferenceSession.OnnxValueMapType, index: number) => void,
  opts: RunOptions = {},
): Promise<void> {
  const session = await ort.InferenceSession.create(modelBytes, sessionOptions(opts.threads));
  try {
    for (let i = 0; i < samples.length; i++) visit(await session.run(toFeeds(samples[i])), i);
  } finally {
    await session.release();
  }
}

/** Collects min/max (and histograms, unless `minmaxOnly`) of `tensors` over `samples`. */
export async function collectStats(
  model: ModelProto,
  tensors: readonly string[],
  samples: readonly FeedSample[],
  opts: RunOptions & { minmaxOnly?: boolean } = {},
): Promise<Map<string, TensorStats>> {
  if (!samples.length) throw new Error('calibration needs at least one input sample');
  const bytes = exposeTensors(model, tensors);
  const stats = new Map<string, TensorStats>();
  for (const t of tensors) stats.set(t, { min: Infinity, max: -Infinity, dims: [] });
  await runSamples(
    bytes,
    samples,
    (out) => {
      for (const t of tensors) {
        const v = out[t];
        if (!v) throw new Error(`calibration: tensor '${t}' missing from the model outputs`);
        if (v.type !== 'float32') throw new Error(`calibration: tensor '${t}' is ${v.type}, not float32`);
        const s = stats.get(t)!;
        if (!s.dims.length) s.dims = [...v.dims];
        const d = v.data as Float32Array;
        if (v.dims.length >= 2) accumulateChannels(s, d, v.dims);
        let lo = s.min;
        let hi = s.max;
        for (let i = 0; i < d.length; i++) {
          const x = d[i];
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        s.min = lo;
        s.max = hi;
      }
    },
    opts,
  );
  for (const [t, s] of stats) {
    if (!Number.isFinite(s.min) || !Number.isFinite(s.max)) throw new Error(`calibration: tensor '${t}' holds non-finite values`);
    const acc = channelAcc.get(s);
    if (acc) {
      s.channelMean = acc.sum.map((x) => x / acc.count);
      s.channelAbsMax = acc.absMax;
      s.channelRms = acc.sq.map((x) => Math.sqrt(x / acc.count));
    }
  }
  if (opts.minmaxOnly) return stats;
  for (const s of stats.values()) s.hist = new Float64Array(HIST_BINS);
  await runSamples(
    bytes,
    samples,
    (out) => {
      for (const t of tensors) {
        const s = stats.get(t)!;
        const d = out[t].data as Float32Array;
        const hist = s.hist!;
        const span = s.max - s.min;
        if (span <= 0) {
          hist[0] += d.length;
          continue;
        }
        const k = HIST_BINS / span;
        const lo = s.min;
        for (let i = 0; i < d.length; i++) {
          let b = Math.floor((d[i] - lo) * k);
          if (b >= HIST_BINS) b = HIST_BINS - 1;
          else if (b < 0) b = 0;
          hist[b]++;
        }
      }
    },
    opts,
  );
  return stats;
}

const channelAcc = new WeakMap<TensorStats, { sum: Float64Array; sq: Float64Array; absMax: Float64Array; count: number }>();

/** Adds a [N, C, ...] tensor's values to per-channel sums. */
function accumulateChannels(s: TensorStats, d: Float32Array, dims: readonly number[]): void {
  const n = dims[0];
  const c = dims[1];
  const inner = dims.slice(2).reduce((a, b) => a * b, 1);
  let acc = channelAcc.get(s);
  if (!acc || acc.sum.length !== c) channelAcc.set(s, (acc = { sum: new Float64Array(c), sq: new Float64Array(c), absMax: new Float64Array(c), count: 0 }));
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      let sq = 0;
      let mx = acc.absMax[ch];
      const off = (b * c + ch) * inner;
      for (let i = 0; i < inner; i++) {
        const v = d[off + i];
        sum += v;
        sq += v * v;
        if (v > mx) mx = v;
        else if (-v > mx) mx = -v;
      }
      acc.sum[ch] += sum;
      acc.sq[ch] += sq;
      acc.absMax[ch] = mx;
    }
  acc.count += n * inner;
}

export interface Range {
  min: number;
  max: number;
}

/** The range of a tensor for a calibration method. */
export function rangeFor(s: TensorStats, method: CalibrationMethod, percentile = 99.99): Range {
  if (method === 'minmax' || !s.hist || s.max <= s.min) return { min: s.min, max: s.max };
  const edge = (b: number) => s.min + ((s.max - s.min) * b) / HIST_BINS;
  if (method === 'percentile') {
    if (!(percentile > 0 && percentile <= 100)) throw new Error(`percentile must be in (0, 100], got ${percentile}`);
    const total = s.hist.reduce((a, b) => a + b, 0);
    const cut = (total * (100 - percentile)) / 200;
    let acc = 0;
    let lo = 0;
    while (lo < HIST_BINS - 1 && acc + s.hist[lo] <= cut) acc += s.hist[lo++];
    acc = 0;
    let hi = HIST_BINS - 1;
    while (hi > lo && acc + s.hist[hi] <= cut) acc += s.hist[hi--];
    // Keep the range of values that survive: the lower edge of `lo`, the upper edge of `hi`.
    return { min: s.min >= 0 ? s.min : edge(lo), max: edge(hi + 1) };
  }
  if (method === 'mse') return mseRange(s);
  return entropyRange(s);
}

/**
 * MSE calibration: of the ranges that cut the same share of values from each tail (0 to 1%),
 * the one whose uint8 quantization has the least expected squared error over the histogram
 * (rounding error scale^2/12 inside the range, clipping error outside it).
 */
function mseRange(s: TensorStats): Range {
  const hist = s.hist!;
  const binW = (s.max - s.min) / HIST_BINS;
  const centre = (b: number) => s.min + (b + 0.5) * binW;
  const tails = [0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2];
  let best: Range = { min: s.min, max: s.max };
  let bestErr = Infinity;
  for (const tail of tails) {
    const r = tail === 0 ? { min: s.min, max: s.max } : rangeFor(s, 'percentile', 100 - 200 * tail);
    const lo = Math.min(0, r.min);
    const hi = Math.max(0, r.max);
    const scale = (hi - lo) / 255 || 1;
    let err = 0;
    for (let b = 0; b < HIST_BINS; b++) {
      if (!hist[b]) continue;
      const v = centre(b);
      const d = v < lo ? lo - v : v > hi ? v - hi : 0;
      err += hist[b] * (d > 0 ? d * d : (scale * scale) / 12);
    }
    if (err < bestErr) {
      bestErr = err;
      best = r;
    }
  }
  return best;
}

/**
 * Entropy (KL) calibration. For a tensor that is non-negative (or non-positive), the threshold
 * is searched on that one side; otherwise on |x| (histogram folded around 0) and applied to
 * both sides. 255 quantization levels on the side searched (128 when folded, like int8).
 */
function entropyRange(s: TensorStats): Range {
  const hist = s.hist!;
  const binW = (s.max - s.min) / HIST_BINS;
  let folded: Float64Array;
  let levels: number;
  let sign = 1;
  if (s.min >= 0 || s.max <= 0) {
    // One-sided: distance from 0, in bins of width binW, starting at the bin holding 0.
    sign = s.min >= 0 ? 1 : -1;
    const start = s.min >= 0 ? Math.floor(s.min / binW) : Math.floor(-s.max / binW);
    folded = new Float64Array(HIST_BINS + start);
    for (let b = 0; b < HIST_BINS; b++) folded[sign > 0 ? start + b : start + HIST_BINS - 1 - b] += hist[b];
    levels = 255;
  } else {
    // Fold around zero: |x| histogram with the same bin width.
    const zeroBin = -s.min / binW;
    const n = Math.ceil(Math.max(zeroBin, HIST_BINS - zeroBin));
    folded = new Float64Array(n + 1);
    for (let b = 0; b < HIST_BINS; b++) {
      const centre = b + 0.5 - zeroBin;
      folded[Math.min(n, Math.floor(Math.abs(centre)))] += hist[b];
    }
    levels = 128;
  }
  // Values at (or next to) zero are represented exactly (zero point) and post-Relu tensors pile
  // up there: leaving that spike in would drive the search towards tiny thresholds.
  folded[0] = 0;
  const t = klThreshold(folded, levels);
  const thr = t * binW;
  if (s.min >= 0) return { min: s.min, max: Math.min(s.max, Math.max(thr, binW)) };
  if (s.max <= 0) return { min: Math.max(s.min, -Math.max(thr, binW)), max: s.max };
  return { min: Math.max(s.min, -thr), max: Math.min(s.max, thr) };
}

/** Number of bins (from 0) to keep that minimises KL(P || Q), Q being P quantized to `levels`. */
function klThreshold(h: Float64Array, levels: number): number {
  const n = h.length;
  if (n <= levels) return n;
  let best = n;
  let bestKl = Infinity;
  const step = Math.max(1, Math.floor((n - levels) / 512)); // bound the search cost
  for (let i = levels; i <= n; i += step) {
    const p = Float64Array.from(h.subarray(0, i));
    let outliers = 0;
    for (let k = i; k < n; k++) outliers += h[k];
    p[i - 1] += outliers;
    // Quantize the first i bins of the reference into `levels` groups, spread back over the
    // non-empty bins of each group.
    const q = new Float64Array(i);
    const per = i / levels;
    for (let j = 0; j < levels; j++) {
      const a = Math.floor(j * per);
      const b = j === levels - 1 ? i : Math.floor((j + 1) * per);
      let sum = 0;
      let nz = 0;
      for (let k = a; k < b; k++) {
        sum += h[k];
        if (h[k] > 0) nz++;
      }
      if (!nz) continue;
      const v = sum / nz;
      for (let k = a; k < b; k++) if (h[k] > 0) q[k] = v;
    }
    let ps = 0;
    let qs = 0;
    for (let k = 0; k < i; k++) {
      ps += p[k];
      qs += q[k];
    }
    if (ps <= 0 || qs <= 0) continue;
    let kl = 0;
    for (let k = 0; k < i; k++) {
      if (p[k] <= 0) continue;
      const pk = p[k] / ps;
      const qk = q[k] / qs;
      kl += qk > 0 ? pk * Math.log(pk / qk) : pk * 20; // empty Q where P has mass: heavy penalty
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

// ------------------------------------------------------------------ sources

/**
 * What the quantizer reads off the float model's activations. Measured by running the model
 * over calibration inputs (`samplesSource`), or read back from a recording of such a run
 * (`recordedSource` in record.ts): with the same answers the int8 bytes come out the same.
 */
export interface CalibrationSource {
  /** Number of calibration inputs behind the figures (written into the model's metadata). */
  readonly samples: number;
  /** Ranks of `tensors` of the input model (the opset upgrade's Softmax axis check). */
  ranks(tensors: readonly string[]): Promise<Map<string, number>>;
  /** Per-channel figure (largest |value| or root mean square) of each of `tensors` of `model`: channel equalization. */
  channelFigures(model: ModelProto, tensors: readonly string[], by: 'absmax' | 'rms'): Promise<Map<string, Float64Array>>;
  /** Ranges and channel means of `tensors` of the prepared float `model`. */
  measure(model: ModelProto, tensors: readonly string[]): Promise<Measurement>;
}

export interface Measurement {
  /** The range a calibration method gives a tensor; undefined when the tensor was not measured. */
  range(tensor: string, method: CalibrationMethod, percentile: number): Range | undefined;
  /** Per-channel mean of a tensor (bias correction); undefined when unknown. */
  mean(tensor: string): Float64Array | undefined;
}

/** Calibration by running the float model over `samples` (onnxruntime-node). */
export function samplesSource(modelBytes: Uint8Array, samples: readonly FeedSample[], run: RunOptions = {}): CalibrationSource {
  if (!samples.length) throw new Error('quantize: no calibration samples');
  return {
    samples: samples.length,
    async ranks(tensors) {
      const ranks = new Map<string, number>();
      if (!tensors.length) return ranks;
      await runSamples(
        exposeTensors(decodeModel(modelBytes), tensors),
        [samples[0]],
        (out) => {
          for (const t of tensors) if (out[t]) ranks.set(t, out[t].dims.length);
        },
        run,
      );
      return ranks;
    },
    async channelFigures(model, tensors, by) {
      const figures = new Map<string, Float64Array>();
      for (const [t, st] of await collectStats(model, tensors, samples, { ...run, minmaxOnly: true })) {
        const v = by === 'rms' ? st.channelRms : st.channelAbsMax;
        if (v) figures.set(t, v);
      }
      return figures;
    },
    async measure(model, tensors) {
      const stats = await collectStats(model, tensors, samples, { ...run, minmaxOnly: false });
      return {
        range: (t, method, percentile) => {
          const s = stats.get(t);
          return s && rangeFor(s, method, percentile);
        },
        mean: (t) => stats.get(t)?.channelMean,
      };
    },
  };
}
