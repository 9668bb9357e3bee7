import { afterEach, describe, expect, it } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { deriveThreshold, fitExceedance, fpirFromPairs, normalQuantile, solveThreshold, upperScale } from '../../../device/gallery/fpir.ts';
import { sampleImpostors } from '../../../device/gallery/impostors.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

const DIM = 64;
/** Gaussian random vectors: impostor cosines ~ N(0, 1/DIM), a heavier spread than face models but the same max-of-N growth. */
function vectors(n: number, seed: number): Float32Array[] {
  const r = xorshift(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: n }, () => Float32Array.from({ length: DIM }, gauss));
}

const open: Gallery[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

function galleryOf(n: number, seed: number): Gallery {
  const g = new Gallery({ dim: DIM, maxTemplates: 4096, kernel: { type: 'js', threads: 1 } });
  open.push(g);
  vectors(n, seed).forEach((v, i) => g.addTemplate(`p${i}`, v));
  return g;
}

/** Share of fresh unknown probes whose best score reaches t. */
function achieved(g: Gallery, t: number, probes: Float32Array[]): number {
  return probes.filter((p) => g.search(p, 1)!.score >= t).length / probes.length;
}

describe('threshold for a target FPIR', () => {
  it('holds the achieved FPIR near the target at every gallery size, where one fixed threshold does not', async () => {
    const unknown = vectors(6000, 99);
    const background = vectors(800, 7);
    const got: { n: number; t: number; fpir: number }[] = [];
    for (const [n, seed] of [[10, 1], [100, 2], [800, 3]]) {
      const g = galleryOf(n, seed);
      const d = deriveThreshold(await sampleImpostors(g, background, { sliceMs: 0 }), 0.01);
      // The point estimate at a threshold that holds the target at 90% confidence.
      expect(d.expectedFpir).toBeLessThan(0.01);
      expect(d.expectedFpir).toBeGreaterThan(0.004);
      got.push({ n, t: d.threshold, fpir: achieved(g, d.threshold, unknown) });
    }
    for (const x of got) {
      expect(x.fpir, `N=${x.n}`).toBeGreaterThanOrEqual(0.004);
      expect(x.fpir, `N=${x.n}`).toBeLessThanOrEqual(0.025);
    }
    // The threshold climbs with N; the one right for 10 people lets many unknowns into 800.
    expect(got[2].t).toBeGreaterThan(got[0].t + 0.05);
    const g800 = galleryOf(800, 3);
    expect(achieved(g800, got[0].t, unknown)).toBeGreaterThan(0.1);
  }, 60_000);

  it('pairs model: 1-(1-p)^N and its inverse agree', () => {
    expect(fpirFromPairs(1e-5, 1000)).toBeCloseTo(1 - (1 - 1e-5) ** 1000, 10);
    const ex = fitExceedance(Float64Array.from({ length: 10000 }, (_, i) => i / 10000), 0.01);
    const d = solveThreshold((t) => fpirFromPairs(ex(t), 50), 0.01);
    expect(fpirFromPairs(ex(d.threshold), 50)).toBeLessThanOrEqual(0.01 + 1e-9);
    expect(fpirFromPairs(ex(d.threshold - 0.001), 50)).toBeGreaterThan(0.01);
  });

  it('exponential tail: empirical below the tail start, exact on exponential data beyond it', () => {
    const r = xorshift(5);
    const scores = Float64Array.from({ length: 200_000 }, () => -Math.log(1 - r()) * 0.05);
    const ex = fitExceedance(scores, 0.01);
    // True survival of Exp(scale 0.05): exp(-t/0.05); check far beyond the fitted start.
    for (const t of [0.3, 0.5, 0.7]) expect(Math.log(ex(t))).toBeCloseTo(-t / 0.05, 0);
    expect(ex(-1)).toBe(1);
  });

  it('upper bound on the tail scale: the chi-square quantile (scipy reference values)', () => {
    // 2k / chi2.ppf(0.1, 2k) from scipy.stats.
    for (const [k, ref] of [[10, 1.6073799], [20, 1.3769115], [80, 1.1632498], [200, 1.0982752]]) {
      expect(upperScale(1, k, 0.9) / ref, `k=${k}`).toBeGreaterThan(0.995);
      expect(upperScale(1, k, 0.9) / ref, `k=${k}`).toBeLessThan(1.005);
    }
    expect(normalQuantile(0.9)).toBeCloseTo(1.2815516, 5);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 6);
    expect(() => normalQuantile(1)).toThrow(/within/);
  });

  it('at confidence 0.9 the derived threshold holds the true FPIR within target in about 90% of samples, the point estimate in about half', () => {
    // Impostor maxima drawn from a known distribution: 0.2 + Exp(scale 0.05), true FPIR(t) exact.
    const truth = (t: number) => Math.exp(-(t - 0.2) / 0.05);
    const r = xorshift(11);
    let held = 0;
    let heldPoint = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) {
      const maxima = Float64Array.from({ length: 1600 }, () => 0.2 - Math.log(1 - r()) * 0.05);
      const d = deriveThreshold({ pairs: [], maxima, people: 300 }, 0.01, 'max', 0.9);
      if (truth(d.threshold) <= 0.01) held++;
      const point = solveThreshold(fitExceedance(maxima, 0.1, 10), 0.01);
      if (truth(point.threshold) <= 0.01) heldPoint++;
    }
    expect(held / trials).toBeGreaterThan(0.82);
    expect(held / trials).toBeLessThan(0.97);
    expect(heldPoint / trials).toBeLessThan(0.65);
  });

  it('refuses what it cannot answer', async () => {
    expect(() => fitExceedance([0.1], 0.1)).toThrow(/at least 2/);
    expect(() => solveThreshold(() => 0, 0)).toThrow(/within/);
    expect(() => deriveThreshold({ pairs: [], maxima: [], people: 0 }, 0.01)).toThrow(/no one enrolled/);
  });
});
