/**
 * `eval --identify --gallery-sizes 100,250,...`: does the threshold the device derives for a
 * target FPIR (device/gallery/operating-point.ts) hold that FPIR at every gallery size, where a
 * fixed threshold drifts? For each size, a seeded subsample of the enrollable people is enrolled;
 * the threshold is derived from that gallery and a background set, exactly as on the device; then
 * the unknown visitors are searched and the FPIR they achieve is counted.
 *
 * The background must not be a fit: the single-image people are split in two halves by identity;
 * one half is the background (int8 round-trip, like the shipped file), the other the unknown
 * visitors, then the halves swap and the counts are pooled. People with probes who are not in the
 * subsampled gallery are unknown visitors too (identity-disjoint from the background as well).
 * With second embeddings, each search is the door's: fused within the band of the threshold in
 * use (the derived one, or the fixed one for the fixed figures); the threshold is derived as on
 * the device, on the gated fused scores (the background half's second embeddings beside its main
 * ones, fpir.ts deriveGatedThreshold, the 'max' model).
 *
 * The tail confidence the derivation holds the target with (fpir.ts TAIL_CONFIDENCE) is a
 * setting, so it is cross-validated on the same two halves: each half's visitors are counted at
 * the confidence the other half's visitors came closest to the target with (fpir_confidence).
 */
import { Gallery } from '../../device/gallery/gallery.ts';
import { decodeBackground, encodeBackground } from '../../device/gallery/background.ts';
import { deriveGatedThreshold, deriveThreshold, TAIL_CONFIDENCE, type ThresholdModel } from '../../device/gallery/fpir.ts';
import { sampleImpostors } from '../../device/gallery/impostors.ts';
import { deviceSearch } from './identify.ts';
import { xorshift } from './rng.ts';

export interface SizePerson {
  identity: string;
  enrol: Float32Array[];
  probes: (Float32Array | undefined)[];
  /** Second embeddings, index for index with enrol / probes (absent: main model only). */
  enrolSecond?: (Float32Array | undefined)[];
  probesSecond?: (Float32Array | undefined)[];
}

export interface SizeInput {
  people: SizePerson[];
  /** Single-image people: one embedding (undefined = no face) each. */
  unknown: { identity: string; embedding: Float32Array | undefined; second?: Float32Array }[];
}

export interface SizeFigures {
  people: number;
  threshold: number;
  expected_fpir: number;
  achieved_fpir: number;
  tpir: number;
  unknown_probes: number;
  fixed_threshold: number;
  fixed_achieved_fpir: number;
  fixed_tpir: number;
}

/** FNV-1a of the identity: the fold an identity falls in, stable across runs and machines. */
export function identityFold(identity: string, seed = 11): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 16777619);
  return (h >>> 0) % 2;
}

function shuffled<T>(items: T[], seed: number): T[] {
  const r = xorshift(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function best(g: Gallery, e: Float32Array | undefined, second: Float32Array | undefined, threshold: number): { personId: string; score: number } | null {
  return e ? deviceSearch(g, e, second, threshold).top : null;
}

type Probe = [Float32Array | undefined, Float32Array | undefined];
const pairs = (main: (Float32Array | undefined)[], second?: (Float32Array | undefined)[]): Probe[] => main.map((e, i) => [e, second?.[i]]);

/** Tail confidences the cross-validation chooses from (fpir.ts TAIL_CONFIDENCE; 0.5 = point estimate). */
export const CONFIDENCE_CANDIDATES = [0.5, 0.6, 0.7, 0.8, 0.9];

/** Counts of one gallery size, one fold, one tail confidence. */
interface FoldCounts {
  fp: number;
  unknown: number;
  hits: number;
  mated: number;
  threshold: number;
  expected: number;
}

/** Key of one fold's counts at one tail confidence. */
const countKey = (fold: number, confidence: number) => `${fold}:${confidence}`;

export interface ConfidenceCv {
  candidates: number[];
  /** What the device ships (fpir.ts TAIL_CONFIDENCE): by_size is for it. */
  shipped: number;
  /** The confidence chosen on the other fold's visitors, for fold 0 and fold 1. */
  chosen_by_fold: [number, number];
  /** The same choice made on both folds together: what TAIL_CONFIDENCE should be. */
  chosen_on_all: number;
  /** Gallery size -> FPIR achieved when each fold uses the confidence chosen on the other. */
  cv_achieved_fpir_by_size: Record<string, number>;
  /** Candidate -> gallery size -> FPIR achieved (both folds pooled): the whole curve, for the record. */
  achieved_by_candidate: Record<string, Record<string, number>>;
}

export interface SizeResults {
  bySize: SizeFigures[];
  confidence: ConfidenceCv;
}

/**
 * The confidence for fold f chosen on the other fold: the candidate whose achieved FPIR is
 * closest to the target over all gallery sizes, in squared log ratio (0.5% and 2% are equally far
 * from 1%). An empty count is read as half a visitor so the log stays finite.
 */
function chooseConfidence(counts: Map<string, FoldCounts>[], folds: number[], targetFpir: number): number {
  let best = CONFIDENCE_CANDIDATES[0];
  let bestLoss = Infinity;
  for (const c of CONFIDENCE_CANDIDATES) {
    let loss = 0;
    for (const bySize of counts) {
      const k = folds.map((f) => bySize.get(countKey(f, c))!);
      const fp = k.reduce((a, x) => a + x.fp, 0);
      const unknown = k.reduce((a, x) => a + x.unknown, 0);
      loss += Math.log(Math.max(fp, 0.5) / unknown / targetFpir) ** 2;
    }
    if (loss < bestLoss) {
      bestLoss = loss;
      best = c;
    }
  }
  return best;
}

export async function identifyBySize(input: SizeInput, sizes: number[], targetFpir: number, fixedThreshold: number, model: ThresholdModel = 'max', seed = 11): Promise<SizeResults> {
  const order = shuffled(input.people, seed);
  const out: SizeFigures[] = [];
  // Per size: counts by fold and confidence.
  const perSize: Map<string, FoldCounts>[] = [];
  for (const size of sizes) {
    const n = Math.min(size, order.length);
    const enrolled = order.slice(0, n);
    const outside = order.slice(n);
    const g = new Gallery({ dim: enrolled[0]?.enrol[0]?.length ?? 512, maxTemplates: Math.max(1024, n * 8), kernel: { type: 'js', threads: 1 } });
    const counts = new Map<string, FoldCounts>();
    let fixedFp = 0, fixedHits = 0, unknownCount = 0, matedCount = 0;
    try {
      for (const p of enrolled) g.setPerson(p.identity, p.enrol, (p.enrolSecond ?? []).filter((s): s is Float32Array => s !== undefined));
      for (const fold of [0, 1]) {
        const half = input.unknown.filter((u) => u.embedding && identityFold(u.identity, seed) !== fold);
        const background = decodeBackground(encodeBackground(half.map((u) => u.embedding!)));
        // As the device: gated fused scores when there are second embeddings (of every face), main otherwise.
        const fused = g.secondCount > 0 && half.length > 0 && half.every((u) => u.second);
        const backgroundSecond = fused ? decodeBackground(encodeBackground(half.map((u) => u.second!))) : undefined;
        const sample = await sampleImpostors(g, background, { sliceMs: 0, keepPairs: !fused && model === 'pairs', backgroundSecond });
        const unknown: Probe[] = [
          ...input.unknown.filter((u) => identityFold(u.identity, seed) === fold).map((u): Probe => [u.embedding, u.second]),
          ...outside.filter((p) => identityFold(p.identity, seed) === fold).flatMap((p) => [...pairs(p.enrol, p.enrolSecond), ...pairs(p.probes, p.probesSecond)]),
        ];
        const mated = enrolled.flatMap((p) => pairs(p.probes, p.probesSecond).map((probe) => ({ identity: p.identity, probe })));
        for (const [e, s] of unknown) {
          const fixed = best(g, e, s, fixedThreshold);
          if (fixed && fixed.score >= fixedThreshold) fixedFp++;
        }
        for (const { identity, probe: [e, s] } of mated) {
          const fixed = best(g, e, s, fixedThreshold);
          if (fixed?.personId === identity && fixed.score >= fixedThreshold) fixedHits++;
        }
        unknownCount += unknown.length;
        matedCount += mated.length;
        for (const c of CONFIDENCE_CANDIDATES) {
          const d = fused ? deriveGatedThreshold(sample, targetFpir, g.config.fusionBand, c) : deriveThreshold(sample, targetFpir, model, c);
          const k: FoldCounts = { fp: 0, unknown: unknown.length, hits: 0, mated: mated.length, threshold: d.threshold, expected: d.expectedFpir };
          for (const [e, s] of unknown) {
            const top = best(g, e, s, d.threshold);
            if (top && top.score >= d.threshold) k.fp++;
          }
          for (const { identity, probe: [e, s] } of mated) {
            const top = best(g, e, s, d.threshold);
            if (top?.personId === identity && top.score >= d.threshold) k.hits++;
          }
          counts.set(countKey(fold, c), k);
        }
      }
    } finally {
      await g.close();
    }
    perSize.push(counts);
    const at = (c: number) => [counts.get(countKey(0, c))!, counts.get(countKey(1, c))!];
    const [a, b] = at(TAIL_CONFIDENCE);
    out.push({
      people: n,
      threshold: (a.threshold + b.threshold) / 2,
      expected_fpir: (a.expected + b.expected) / 2,
      achieved_fpir: (a.fp + b.fp) / unknownCount,
      tpir: (a.hits + b.hits) / matedCount,
      unknown_probes: unknownCount,
      fixed_threshold: fixedThreshold,
      fixed_achieved_fpir: fixedFp / unknownCount,
      fixed_tpir: fixedHits / matedCount,
    });
    if (n === order.length) break;
  }
  // Each fold's visitors are judged at the confidence the other fold's visitors chose.
  const chosen: [number, number] = [chooseConfidence(perSize, [1], targetFpir), chooseConfidence(perSize, [0], targetFpir)];
  const pooled = (c0: number, c1: number) =>
    Object.fromEntries(
      perSize.map((counts, i) => {
        const a = counts.get(countKey(0, c0))!;
        const b = counts.get(countKey(1, c1))!;
        return [String(out[i].people), (a.fp + b.fp) / (a.unknown + b.unknown)];
      }),
    );
  return {
    bySize: out,
    confidence: {
      candidates: CONFIDENCE_CANDIDATES,
      shipped: TAIL_CONFIDENCE,
      chosen_by_fold: chosen,
      chosen_on_all: chooseConfidence(perSize, [0, 1], targetFpir),
      cv_achieved_fpir_by_size: pooled(chosen[0], chosen[1]),
      achieved_by_candidate: Object.fromEntries(CONFIDENCE_CANDIDATES.map((c) => [String(c), pooled(c, c)])),
    },
  };
}
