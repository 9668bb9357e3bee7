/**
 * Fitting and scoring the liveness fusion on recorded approaches. Pure functions: attempts in,
 * calibration or error rates out. The fit is a class-balanced, L2-regularised logistic
 * regression on standardised cue features (a missing feature is imputed at the training mean,
 * i.e. contributes nothing), written back as weight/centre per cue so that the device's fusion
 * (device/liveness/fusion.ts) reproduces it exactly, except for the per-cue cap.
 */
import { CUE_NAMES, type CueName } from '../../core/vision/pad/types.ts';
import { fuse, type Calibration, type CueFeatures } from '../../device/liveness/fusion.ts';

export interface Attempt {
  clip: string;
  subject: string;
  /** Bona fide (live person) or attack. */
  live: boolean;
  features: CueFeatures;
}

export interface FitOptions {
  cues?: readonly CueName[];
  /** L2 penalty on the standardised weights. */
  lambda?: number;
  cap?: number;
}

export function fitCalibration(attempts: Attempt[], opts: FitOptions = {}): Calibration {
  const cues = (opts.cues ?? CUE_NAMES).filter((c) => attempts.some((a) => a.features[c] !== undefined));
  const lambda = opts.lambda ?? 1;
  const cap = opts.cap ?? 4;
  const nLive = attempts.filter((a) => a.live).length;
  const nAttack = attempts.length - nLive;
  if (!nLive || !nAttack) throw new Error(`cannot fit liveness weights: ${nLive} live and ${nAttack} attack approaches (need both)`);
  const mean: number[] = [];
  const std: number[] = [];
  for (const c of cues) {
    const v = attempts.map((a) => a.features[c]).filter((x): x is number => x !== undefined);
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length) || 1;
    mean.push(m);
    std.push(sd);
  }
  const X = attempts.map((a) => cues.map((c, j) => (a.features[c] === undefined ? 0 : (a.features[c]! - mean[j]) / std[j])));
  const y = attempts.map((a) => (a.live ? 1 : 0));
  // Each class weighs half, so the fitted log-odds are those of an even prior.
  const wt = attempts.map((a) => (a.live ? 0.5 / nLive : 0.5 / nAttack));
  const d = cues.length + 1;
  const beta = new Array<number>(d).fill(0);
  for (let iter = 0; iter < 50; iter++) {
    const g = new Array<number>(d).fill(0);
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < X.length; i++) {
      const xi = [1, ...X[i]];
      const z = xi.reduce((s, x, k) => s + x * beta[k], 0);
      const p = 1 / (1 + Math.exp(-z));
      for (let k = 0; k < d; k++) {
        g[k] += wt[i] * (p - y[i]) * xi[k];
        for (let l = 0; l < d; l++) H[k][l] += wt[i] * p * (1 - p) * xi[k] * xi[l];
      }
    }
    // The penalty is scaled to the total weight (1), and leaves the intercept free.
    for (let k = 1; k < d; k++) {
      g[k] += (lambda / attempts.length) * beta[k];
      H[k][k] += lambda / attempts.length;
    }
    for (let k = 0; k < d; k++) H[k][k] += 1e-9;
    const step = solve(H, g);
    let moved = 0;
    for (let k = 0; k < d; k++) {
      beta[k] -= step[k];
      moved = Math.max(moved, Math.abs(step[k]));
    }
    if (moved < 1e-8) break;
  }
  const out: Calibration = { about: '', intercept: beta[0], cues: {} };
  cues.forEach((c, j) => {
    out.cues[c] = { weight: beta[j + 1] / std[j], center: mean[j], cap };
  });
  return out;
}

/** Gaussian elimination with partial pivoting (d is at most 6 here). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

export interface Rates {
  attacks: number;
  bonaFide: number;
  /** Attack approaches passed as live. */
  apcer: number;
  /** Live approaches refused. */
  bpcer: number;
}

export function rates(attempts: Attempt[], cal: Calibration, bar: number, drop: readonly CueName[] = []): Rates {
  let attacks = 0;
  let bona = 0;
  let passedAttacks = 0;
  let refusedLive = 0;
  for (const a of attempts) {
    const f: CueFeatures = { ...a.features };
    for (const c of drop) delete f[c];
    const live = fuse(cal, f).logOdds >= bar;
    if (a.live) {
      bona++;
      if (!live) refusedLive++;
    } else {
      attacks++;
      if (live) passedAttacks++;
    }
  }
  return { attacks, bonaFide: bona, apcer: attacks ? passedAttacks / attacks : 0, bpcer: bona ? refusedLive / bona : 0 };
}

export interface SubjectResult extends Rates {
  subject: string;
  /** Why the subject could not be scored (e.g. the others hold no live approach to fit on). */
  error?: string;
}

/** Leave one subject out: fit on every other subject's approaches, score the one left out. */
export function leaveOneSubjectOut(pool: Attempt[], subjects: readonly string[], bar: number, opts: FitOptions = {}): SubjectResult[] {
  return subjects.map((s) => {
    const train = pool.filter((a) => a.subject !== s);
    const test = pool.filter((a) => a.subject === s);
    try {
      return { subject: s, ...rates(test, fitCalibration(train, opts), bar) };
    } catch (err) {
      return { subject: s, attacks: 0, bonaFide: 0, apcer: NaN, bpcer: NaN, error: (err as Error).message };
    }
  });
}

/**
 * Which way each cue may point: a border, rigid motion or screen artefacts can only speak for
 * an attack, a blink only for life, the passive model's live score only for life. A fit that
 * gives a cue the other sign learned a quirk of the recordings (replayed selfie videos blink
 * more than people at a door), so that cue is dropped and the rest refitted.
 */
export const CUE_SIGN: Record<CueName, 1 | -1> = { passive: 1, blink: 1, screen_border: -1, rigid_motion: -1, screen_artifacts: -1 };

/**
 * Caps per cue when `asymmetric`: seeing a border, rigid motion or a screen pattern is strong
 * evidence of an attack, not seeing one is weak evidence of life (an attacker can hide the
 * edges); a blink is good evidence of life, its absence weak evidence of an attack.
 */
export const ASYMMETRIC_CAPS: Record<CueName, { cap: number; capLive: number }> = {
  passive: { cap: 3, capLive: 3 },
  screen_border: { cap: 4, capLive: 1 },
  rigid_motion: { cap: 4, capLive: 1 },
  screen_artifacts: { cap: 4, capLive: 1 },
  blink: { cap: 0.5, capLive: 2 },
};

export interface Variant {
  lambda: number;
  asymmetric: boolean;
  /** Cues the model may use (all when absent). */
  cues?: CueName[];
}
/** Candidate cue sets: all, and the scene cues with and without the passive model. */
const CUE_SETS: (CueName[] | undefined)[] = [
  undefined,
  ['passive', 'screen_border'],
  ['passive', 'screen_border', 'rigid_motion'],
  ['passive', 'screen_border', 'screen_artifacts'],
  ['screen_border'],
  ['screen_border', 'rigid_motion', 'screen_artifacts'],
];
export const VARIANTS: Variant[] = CUE_SETS.flatMap((cues) => [1, 10, 100].flatMap((lambda) => [false, true].map((asymmetric) => ({ lambda, asymmetric, ...(cues && { cues }) }))));

export const describeVariant = (v: Variant): string => `${v.cues ? v.cues.join('+') : 'all cues'}, L2 ${v.lambda}, ${v.asymmetric ? 'asymmetric' : 'symmetric'} caps`;

/** Fit with the variant's cues and penalty, drop cues that point the wrong way, apply its caps. */
export function fitVariant(train: Attempt[], v: Variant): Calibration {
  let use = [...(v.cues ?? CUE_NAMES)];
  for (;;) {
    const cal = fitCalibration(train, { lambda: v.lambda, cues: use });
    const wrong = Object.entries(cal.cues).filter(([c, w]) => Math.sign(w!.weight) !== CUE_SIGN[c as CueName]).map(([c]) => c as CueName);
    if (!wrong.length || wrong.length === use.length) {
      if (v.asymmetric) for (const [c, w] of Object.entries(cal.cues)) Object.assign(w!, ASYMMETRIC_CAPS[c as CueName]);
      return cal;
    }
    use = use.filter((c) => !wrong.includes(c));
  }
}

/** Half total error rate of a variant by leaving each subject of `pool` out in turn. */
function innerError(pool: Attempt[], v: Variant, bar: number): number {
  let a = 0, b = 0, na = 0, nb = 0;
  for (const s of new Set(pool.map((x) => x.subject))) {
    const test = pool.filter((x) => x.subject === s);
    let cal: Calibration;
    try {
      cal = fitVariant(pool.filter((x) => x.subject !== s), v);
    } catch {
      continue;
    }
    const r = rates(test, cal, bar);
    a += r.apcer * r.attacks;
    b += r.bpcer * r.bonaFide;
    na += r.attacks;
    nb += r.bonaFide;
  }
  return (na ? a / na : 1) / 2 + (nb ? b / nb : 1) / 2;
}

/** Pick the variant by leave-one-subject-out inside `pool`, then fit it on all of `pool`. */
export function selectAndFit(pool: Attempt[], bar: number): { calibration: Calibration; variant: Variant; innerHter: number } {
  let best: { v: Variant; e: number } | undefined;
  for (const v of VARIANTS) {
    const e = innerError(pool, v, bar);
    if (!best || e < best.e - 1e-9) best = { v, e };
  }
  return { calibration: fitVariant(pool, best!.v), variant: best!.v, innerHter: best!.e };
}

/** Leave one subject out for one model: weights fitted on the other subjects, scored on the one left out. */
export function leaveOneSubjectOutWith(pool: Attempt[], subjects: readonly string[], bar: number, v: Variant): SubjectResult[] {
  return subjects.map((s) => {
    try {
      return { subject: s, ...rates(pool.filter((a) => a.subject === s), fitVariant(pool.filter((a) => a.subject !== s), v), bar) };
    } catch (err) {
      return { subject: s, attacks: 0, bonaFide: 0, apcer: NaN, bpcer: NaN, error: (err as Error).message };
    }
  });
}

/**
 * Leave one subject out with the model choice nested inside: for each subject, the variant is
 * chosen by leave-one-subject-out on the OTHER subjects only, fitted on them, and scored on the
 * one left out, which took no part in any choice.
 */
export function nestedLeaveOneSubjectOut(pool: Attempt[], subjects: readonly string[], bar: number): (SubjectResult & { variant?: Variant })[] {
  return subjects.map((s) => {
    try {
      const { calibration, variant } = selectAndFit(pool.filter((a) => a.subject !== s), bar);
      return { subject: s, variant, ...rates(pool.filter((a) => a.subject === s), calibration, bar) };
    } catch (err) {
      return { subject: s, attacks: 0, bonaFide: 0, apcer: NaN, bpcer: NaN, error: (err as Error).message };
    }
  });
}

/** Probability that a live approach's feature exceeds an attack's (NaN without both). */
export function featureAuc(attempts: Attempt[], cue: CueName): number {
  const live = attempts.filter((a) => a.live && a.features[cue] !== undefined).map((a) => a.features[cue]!);
  const attack = attempts.filter((a) => !a.live && a.features[cue] !== undefined).map((a) => a.features[cue]!);
  if (!live.length || !attack.length) return NaN;
  let wins = 0;
  for (const l of live) for (const a of attack) wins += l > a ? 1 : l === a ? 0.5 : 0;
  return wins / (live.length * attack.length);
}
