import { afterEach, describe, expect, it } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { deriveThreshold, fitExceedance, fpirFromPairs, solveThreshold } from '../../../device/gallery/fpir.ts';
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
      expect(d.expectedFpir).toBeCloseTo(0.01, 3);
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

  it('refuses what it cannot answer', async () => {
    expect(() => fitExceedance([0.1], 0.1)).toThrow(/at least 2/);
    expect(() => solveThreshold(() => 0, 0)).toThrow(/within/);
    expect(() => deriveThreshold({ pairs: [], maxima: [], people: 0 }, 0.01)).toThrow(/no one enrolled/);
  });
});
