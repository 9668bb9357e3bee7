/** Face-verification metrics over scored pairs (pure, unit-tested). */

export interface ScoredPair {
  score: number;
  same: boolean;
  fold: number;
}

/** Threshold maximising accuracy (score >= t means "same") over the given pairs. */
export function bestThreshold(pairs: ScoredPair[]): { threshold: number; accuracy: number } {
  if (!pairs.length) return { threshold: 0, accuracy: 0 };
  const sorted = [...pairs].sort((a, b) => a.score - b.score);
  // Start with threshold below everything: all predicted same.
  let correct = sorted.filter((p) => p.same).length;
  let best = { threshold: sorted[0].score - 1e-6, accuracy: correct / sorted.length };
  for (let i = 0; i < sorted.length; i++) {
    // Move threshold just above sorted[i]: it flips to "different".
    correct += sorted[i].same ? -1 : 1;
    if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue;
    const t = i + 1 < sorted.length ? (sorted[i].score + sorted[i + 1].score) / 2 : sorted[i].score + 1e-6;
    if (correct / sorted.length > best.accuracy) best = { threshold: t, accuracy: correct / sorted.length };
  }
  return best;
}

/** Leave-one-fold-out: threshold picked on the other folds, accuracy measured on the held-out fold. */
export function leaveOneFoldOut(pairs: ScoredPair[]): { accuracy: number; perFold: { fold: number; accuracy: number; threshold: number }[] } {
  const folds = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  const perFold = folds.map((fold) => {
    const { threshold } = bestThreshold(pairs.filter((p) => p.fold !== fold));
    const test = pairs.filter((p) => p.fold === fold);
    const acc = test.filter((p) => (p.score >= threshold) === p.same).length / test.length;
    return { fold, accuracy: acc, threshold };
  });
  const total = perFold.reduce((s, f) => s + f.accuracy * pairs.filter((p) => p.fold === f.fold).length, 0);
  return { accuracy: total / pairs.length, perFold };
}

/**
 * True-accept rate at a false-accept rate: the threshold is the lowest one that lets through at
 * most floor(far * impostors) impostor pairs (ties count as accepted).
 */
export function tarAtFar(pairs: ScoredPair[], far: number): { tar: number; threshold: number } {
  const impostor = pairs.filter((p) => !p.same).map((p) => p.score).sort((a, b) => b - a);
  const genuine = pairs.filter((p) => p.same).map((p) => p.score);
  if (!impostor.length || !genuine.length) return { tar: 0, threshold: 1 };
  const allowed = Math.floor(far * impostor.length);
  // Accept score > threshold; threshold = the (allowed)-th highest impostor score.
  const threshold = impostor[allowed];
  const tar = genuine.filter((s) => s > threshold).length / genuine.length;
  return { tar, threshold };
}
