/**
 * Score fusion of two embeddings for open-set 1:N search, and the cross-validation that picks
 * its parameters (pure; the I/O is in fusion.ts).
 *
 * Every probe carries its cosine to each enrolled person under both models. Variants:
 * - main / second: one model alone;
 * - mean: (main + second) / 2, no parameter;
 * - weighted: w * main + (1 - w) * second, w chosen by cross-validation;
 * - gated: the second model runs only when the main model's best score lies within `band` of the
 *   main threshold at the target FPIR; above the band the main answer stands, below it the probe
 *   is refused, inside it the mean of the two cosines decides. One score per probe on one scale (accepted
 *   outright +10, refused outright -10), so the usual threshold-at-FPIR applies to it too.
 *
 * Cross-validation splits identities (enrolled and unknown alike) into folds; a fold's probes
 * are scored with parameters chosen on the other folds only, and the held-out scores are pooled.
 */
import { thresholdAtFpir, tpirAt, type ProbeResult } from './identify.ts';
import { xorshift } from './rng.ts';

export interface ProbeScores {
  identity: string;
  /** Cosine to each gallery person (index as in the gallery list); null: no face, no search. */
  main: Float32Array | null;
  second: Float32Array | null;
  /** true for a person not enrolled (an unknown visitor). */
  unknown: boolean;
}

export interface Params {
  w: number;
  /** Main-model threshold and band around it (gated only). */
  tMain?: number;
  band?: number;
}

export type Variant = 'main' | 'second' | 'mean' | 'weighted' | 'gated';

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function fusedTop(p: ProbeScores, w: number): { i: number; score: number } {
  let best = -1;
  let bs = -Infinity;
  for (let i = 0; i < p.main!.length; i++) {
    const s = w * p.main![i] + (1 - w) * p.second![i];
    if (s > bs) [best, bs] = [i, s];
  }
  return { i: best, score: bs };
}

/** The gallery's answer for one probe under a variant; `ranSecond` says whether model two ran. */
export function answer(p: ProbeScores, gallery: readonly string[], v: Variant, params: Params): { result: ProbeResult; ranSecond: boolean } {
  const none = { result: { identity: p.identity, top: null }, ranSecond: false };
  if (!p.main || !p.second || !gallery.length) return none;
  const top = (i: number, score: number) => ({ identity: p.identity, top: { personId: gallery[i], score } });
  if (v === 'main' || v === 'second') {
    const s = v === 'main' ? p.main : p.second;
    const i = argmax(s);
    return { result: top(i, s[i]), ranSecond: v === 'second' };
  }
  const w = v === 'mean' ? 0.5 : params.w;
  if (v === 'gated') {
    const i = argmax(p.main);
    const s = p.main[i];
    if (s >= params.tMain! + params.band!) return { result: top(i, 10 + s), ranSecond: false };
    if (s < params.tMain! - params.band!) return { result: top(i, -10 + s), ranSecond: false };
  }
  const f = fusedTop(p, w);
  return { result: top(f.i, f.score), ranSecond: true };
}

export interface VariantFigures {
  tpir: number;
  threshold: number;
  achieved_fpir: number;
  /** Share of probes with a face on which the second model ran. */
  second_run_rate: number;
}

/** TPIR at `fpir` for answers already computed (threshold set on their unknown probes). */
export function figuresAt(answers: { result: ProbeResult; ranSecond: boolean; unknown: boolean }[], fpir: number): VariantFigures {
  const unknown = answers.filter((a) => a.unknown).map((a) => a.result);
  const mated = answers.filter((a) => !a.unknown).map((a) => a.result);
  const t = thresholdAtFpir(unknown, fpir);
  const withFace = answers.filter((a) => a.result.top);
  return {
    tpir: tpirAt(mated, t.threshold),
    threshold: t.threshold,
    achieved_fpir: t.achieved_fpir,
    second_run_rate: withFace.filter((a) => a.ranSecond).length / Math.max(1, withFace.length),
  };
}

export function evaluate(probes: ProbeScores[], gallery: readonly string[], v: Variant, params: Params, fpir: number): VariantFigures {
  return figuresAt(probes.map((p) => ({ ...answer(p, gallery, v, params), unknown: p.unknown })), fpir);
}

/** Deterministic fold of an identity (FNV-1a of its name), so folds are identity-disjoint. */
export function foldOf(identity: string, folds: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 0x01000193) >>> 0;
  return h % folds;
}

export const WEIGHTS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
export const BANDS = [0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 1];
/** A wider band must buy at least this much training TPIR, else the narrower (cheaper) one wins. */
export const BAND_GAIN = 0.002;

/**
 * Parameters for one target FPIR, chosen on `train` alone: the weight for 'weighted'; for
 * 'gated' the band around the main threshold (measured on train too), fusing with the plain mean
 * (a tuned weight did not carry over from fold to fold: see the weighted figures).
 */
export function chooseParams(train: ProbeScores[], gallery: readonly string[], fpir: number, v: 'weighted' | 'gated'): Params {
  if (v === 'weighted') {
    let w = 0.5;
    let best = -1;
    for (const c of WEIGHTS) {
      const t = evaluate(train, gallery, 'weighted', { w: c }, fpir).tpir;
      if (t > best + 1e-12) [w, best] = [c, t];
    }
    return { w };
  }
  const w = 0.5;
  const tMain = evaluate(train, gallery, 'main', { w }, fpir).threshold;
  const scored = BANDS.map((band) => ({ band, tpir: evaluate(train, gallery, 'gated', { w, tMain, band }, fpir).tpir }));
  const top = Math.max(...scored.map((s) => s.tpir));
  const band = scored.find((s) => s.tpir >= top - BAND_GAIN)!.band;
  return { w, tMain, band };
}

export type Answer = { result: ProbeResult; ranSecond: boolean; unknown: boolean };

export interface CrossValidated {
  figures: VariantFigures;
  /** The pooled held-out answers (for the bootstrap). */
  answers: Answer[];
  /** Parameters chosen in each fold. */
  params: Params[];
}

/** Held-out figures of a tuned variant: each fold scored with parameters from the others. */
export function crossValidate(probes: ProbeScores[], gallery: readonly string[], v: 'weighted' | 'gated', fpir: number, folds = 5): CrossValidated {
  const fold = probes.map((p) => foldOf(p.identity, folds));
  // Kept in the probes' order, so they pair with another variant's answers (bootstrapGain).
  const pooled: Answer[] = new Array(probes.length);
  const params: Params[] = [];
  for (let k = 0; k < folds; k++) {
    const p = chooseParams(probes.filter((_, i) => fold[i] !== k), gallery, fpir, v);
    params.push(p);
    probes.forEach((q, i) => {
      if (fold[i] === k) pooled[i] = { ...answer(q, gallery, v, p), unknown: q.unknown };
    });
  }
  return { figures: figuresAt(pooled, fpir), answers: pooled, params };
}

/**
 * 95% interval of TPIR(b) - TPIR(a) at `fpir`, by resampling identities with replacement (a
 * person's probes move together: they are not independent). `a` and `b` answer the same probes
 * in the same order.
 */
export function bootstrapGain(a: Answer[], b: Answer[], fpir: number, rounds = 500, seed = 11): { low: number; high: number } {
  const byId = new Map<string, number[]>();
  a.forEach((x, i) => byId.set(x.result.identity, [...(byId.get(x.result.identity) ?? []), i]));
  const ids = [...byId.values()];
  const rnd = xorshift(seed);
  const gains: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const idx: number[] = [];
    for (let k = 0; k < ids.length; k++) idx.push(...ids[Math.floor(rnd() * ids.length)]);
    gains.push(figuresAt(idx.map((i) => b[i]), fpir).tpir - figuresAt(idx.map((i) => a[i]), fpir).tpir);
  }
  gains.sort((x, y) => x - y);
  return { low: gains[Math.floor(0.025 * rounds)], high: gains[Math.ceil(0.975 * rounds) - 1] };
}
