/**
 * The 1:N vote threshold for a target false-positive identification rate (FPIR), derived from
 * impostor scores (pure functions; sampling the scores is operating-point.ts).
 *
 * An unknown visitor is let in when their best score over the N enrolled people reaches the
 * threshold, so what matters is the tail of the max-over-N impostor score, which moves with N.
 * Two models of it, both measured (README "Measured figures"):
 * - 'pairs': per-comparison impostor scores (probe vs one person), their upper tail fitted with
 *   an exponential, then FPIR(t) = 1 - (1 - p(t))^N (independent comparisons).
 * - 'max': the best score of each impostor probe over the whole gallery (max-of-N simulated
 *   directly), its upper tail fitted the same way; no independence assumption, fewer samples.
 * The exponential tail lets the threshold reach FPIRs below 1/samples (the far tail is where
 * FPIR 1e-3 over thousands of people lives), smoothly instead of jumping between sample values.
 */

export type ThresholdModel = 'pairs' | 'max';

/** Survival function P(score >= t): empirical below the tail start, exponential beyond it. */
export interface Exceedance {
  (t: number): number;
  /** Where the fitted tail starts, and its scale. */
  u: number;
  sigma: number;
  samples: number;
}

/**
 * Fit the upper tail of `scores`: u = the k-th highest score, with k = max(minTail,
 * tailFraction * n); the excesses over u are taken as exponential with their mean as scale
 * (the maximum-likelihood fit), so P(X >= t) = (k/n) exp(-(t-u)/sigma) for t >= u.
 */
export function fitExceedance(scores: ArrayLike<number>, tailFraction: number, minTail = 20): Exceedance {
  const n = scores.length;
  if (n < 2) throw new Error(`need at least 2 impostor scores to fit a tail, got ${n}`);
  const sorted = Float64Array.from(scores).sort().reverse();
  const k = Math.min(n - 1, Math.max(minTail, Math.round(tailFraction * n)));
  const u = sorted[k];
  let excess = 0;
  for (let i = 0; i < k; i++) excess += sorted[i] - u;
  // Guards a degenerate tail (all equal): a tiny scale makes the tail a step at u.
  const sigma = Math.max(excess / k, 1e-6);
  const pu = k / n;
  const f = ((t: number) => {
    if (t >= u) return pu * Math.exp(-(t - u) / sigma);
    // Count of scores >= t by binary search on the descending array.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] >= t) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(lo / n, pu);
  }) as Exceedance;
  f.u = u;
  f.sigma = sigma;
  f.samples = n;
  return f;
}

/** FPIR at threshold t over N people under the independent-comparison model. */
export function fpirFromPairs(p: number, people: number): number {
  // 1-(1-p)^N without cancellation for tiny p.
  return -Math.expm1(people * Math.log1p(-Math.min(p, 1 - 1e-16)));
}

export interface DerivedThreshold {
  threshold: number;
  /** What the model predicts at that threshold for this gallery. */
  expectedFpir: number;
}

/** Smallest t in [-1, 1] whose fpir(t) <= target (fpir is non-increasing in t), by bisection. */
export function solveThreshold(fpir: (t: number) => number, target: number): DerivedThreshold {
  if (!(target > 0 && target < 1)) throw new Error(`target FPIR must be within (0, 1), got ${target}`);
  let lo = -1;
  let hi = 1.5;
  if (fpir(lo) <= target) return { threshold: lo, expectedFpir: fpir(lo) };
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (fpir(mid) <= target) hi = mid;
    else lo = mid;
  }
  return { threshold: hi, expectedFpir: fpir(hi) };
}

export interface ImpostorSample {
  /** Probe-vs-person impostor scores (each probe against every other person). */
  pairs: ArrayLike<number>;
  /** Each probe's best impostor score over the gallery. */
  maxima: ArrayLike<number>;
  /** Enrolled people the threshold is for. */
  people: number;
}

/** Tail fractions: the share of the samples above the tail start (measured; see README). */
export const TAIL_FRACTION: Record<ThresholdModel, number> = { pairs: 0.001, max: 0.1 };

export function deriveThreshold(s: ImpostorSample, targetFpir: number, model: ThresholdModel = 'max'): DerivedThreshold {
  if (s.people <= 0) throw new Error('no one enrolled: nothing to derive a threshold for');
  if (model === 'max') {
    const ex = fitExceedance(s.maxima, TAIL_FRACTION.max, 10);
    return solveThreshold(ex, targetFpir);
  }
  const ex = fitExceedance(s.pairs, TAIL_FRACTION.pairs, 20);
  return solveThreshold((t) => fpirFromPairs(ex(t), s.people), targetFpir);
}
