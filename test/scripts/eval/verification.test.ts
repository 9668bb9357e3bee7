import { describe, expect, it } from 'vitest';
import { auc, equalErrorThreshold, errorRates } from '../../../scripts/eval/spoof.ts';
import { percentile } from '../../../scripts/eval/stats.ts';
import { bestThreshold, leaveOneFoldOut, tarAtFar, type ScoredPair } from '../../../scripts/eval/verification.ts';

const P = (score: number, same: boolean, fold = 1): ScoredPair => ({ score, same, fold });

describe('verification metrics', () => {
  it('finds the accuracy-maximising threshold', () => {
    const pairs = [P(0.9, true), P(0.7, true), P(0.4, true), P(0.5, false), P(0.2, false), P(0.1, false)];
    const b = bestThreshold(pairs);
    // Best split leaves one error (0.4 same below 0.5 different, or vice versa): 5/6.
    expect(b.accuracy).toBeCloseTo(5 / 6, 12);
    expect(pairs.filter((p) => (p.score >= b.threshold) === p.same)).toHaveLength(5);
  });

  it('picks each fold threshold on the other folds only', () => {
    // Fold 2 alone would want threshold ~0.55; folds 1 and 3 agree on ~0.25.
    const pairs = [
      P(0.3, true, 1), P(0.2, false, 1),
      P(0.6, true, 2), P(0.5, false, 2),
      P(0.3, true, 3), P(0.2, false, 3),
    ];
    const r = leaveOneFoldOut(pairs);
    const f2 = r.perFold.find((f) => f.fold === 2)!;
    expect(f2.threshold).toBeCloseTo(0.25, 6);
    expect(f2.accuracy).toBe(0.5); // the 0.5 impostor is accepted at 0.25
    expect(r.accuracy).toBeCloseTo(5 / 6, 12);
  });

  it('computes TAR at FAR with the allowed number of impostors', () => {
    const impostors = Array.from({ length: 1000 }, (_, i) => P(i / 1000, false)); // max 0.999
    const genuine = [P(0.9995, true), P(0.9985, true), P(0.5, true), P(1, true)];
    // FAR 1e-3 of 1000 impostors allows 1 above threshold: threshold = 2nd highest = 0.998.
    const r = tarAtFar([...impostors, ...genuine], 1e-3);
    expect(r.threshold).toBeCloseTo(0.998, 9);
    expect(r.tar).toBe(3 / 4);
  });

  it('nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });
});

describe('liveness metrics', () => {
  it('APCER/BPCER count missing faces as refusals', () => {
    const s = [
      { live: true, score: 0.9 }, { live: true, score: 0.2 }, { live: true },
      { live: false, score: 0.8 }, { live: false, score: 0.1 }, { live: false },
    ];
    expect(errorRates(s, 0.5)).toEqual({ apcer: 1 / 3, bpcer: 2 / 3 });
  });

  it('AUC and equal error threshold', () => {
    expect(auc([0.9, 0.8], [0.1, 0.85])).toBe(0.75);
    const e = equalErrorThreshold([{ live: true, score: 0.9 }, { live: true, score: 0.6 }, { live: false, score: 0.3 }, { live: false, score: 0.7 }]);
    expect(e.eer).toBe(0.5);
  });
});
