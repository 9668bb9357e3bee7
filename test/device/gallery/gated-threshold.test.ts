import { afterEach, describe, expect, it } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { deriveGatedThreshold, deriveThreshold, gatedMaxima, type ImpostorSample } from '../../../device/gallery/fpir.ts';
import { sampleImpostors } from '../../../device/gallery/impostors.ts';
import { OperatingPoint } from '../../../device/gallery/operating-point.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

/** Standard normal by Box-Muller on a seeded generator. */
function normal(r: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * Synthetic impostors as the two models give them: each probe's best main score, and its fused
 * best = mean(main, second) where the second model scores strangers higher (shifted up by 0.15).
 */
function impostors(n: number, seed: number): { main: Float32Array; fused: Float32Array } {
  const z = normal(xorshift(seed));
  const main = new Float32Array(n);
  const fused = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    main[i] = 0.25 + 0.06 * z();
    const second = main[i] + 0.15 + 0.05 * z();
    fused[i] = (main[i] + second) / 2;
  }
  return { main, fused };
}

/** The FPIR the door achieves at t: fused votes where the main best is within the band of t. */
function doorFpir(t: number, band: number, fresh: { main: Float32Array; fused: Float32Array }): number {
  let fp = 0;
  for (let i = 0; i < fresh.main.length; i++) {
    const s = Math.abs(fresh.main[i] - t) <= band ? fresh.fused[i] : fresh.main[i];
    if (s >= t) fp++;
  }
  return fp / fresh.main.length;
}

describe('threshold on the gated fused scores', () => {
  const band = 0.1;
  const target = 0.01;
  const derivation = impostors(3000, 5);
  const sample: ImpostorSample = { pairs: new Float32Array(0), maxima: derivation.main, fusedMaxima: derivation.fused, people: 300 };
  const fresh = impostors(200_000, 77);

  it('holds the target FPIR at the door, where the threshold derived on main scores does not', () => {
    const mainOnly = deriveThreshold(sample, target, 'max');
    const gated = deriveGatedThreshold(sample, target, band);
    expect(gated.mainThreshold).toBe(mainOnly.threshold);
    expect(gated.threshold).toBeGreaterThan(mainOnly.threshold);
    // The main-derived threshold under the door's fused vote lets far more strangers in.
    expect(doorFpir(mainOnly.threshold, band, fresh)).toBeGreaterThan(2 * target);
    const achieved = doorFpir(gated.threshold, band, fresh);
    expect(achieved).toBeGreaterThan(target / 2);
    expect(achieved).toBeLessThan(target * 2);
    expect(gated.expectedFpir).toBeLessThan(target);
    expect(gated.expectedFpir).toBeGreaterThan(target / 2);
  });

  it('gates by the band: fused only where the main best is near the threshold', () => {
    const g = gatedMaxima({ pairs: [], maxima: [0.1, 0.45, 0.7], fusedMaxima: [0.3, 0.6, 0.9], people: 3 }, 0.5, 0.1);
    expect(Array.from(g)).toEqual([Float32Array.of(0.1)[0], Float32Array.of(0.6)[0], Float32Array.of(0.7)[0]]);
  });

  it('without fused maxima it is the main derivation', () => {
    const plain = { ...sample, fusedMaxima: undefined };
    expect(deriveGatedThreshold(plain, target, band).threshold).toBe(deriveThreshold(plain, target, 'max').threshold);
  });
});

describe('gallery impostor sampling with second embeddings', () => {
  const DIM = 32;
  const DIM2 = 16;
  const r = xorshift(9);
  const vec = (d: number) => Float32Array.from({ length: d }, () => r() - 0.5);
  /** A second vector correlated with a shared direction: strangers score higher on it. */
  const common = vec(DIM2);
  const vec2 = () => vec(DIM2).map((x, i) => x + 1.5 * common[i]);
  const galleries: Gallery[] = [];
  afterEach(async () => {
    for (const g of galleries.splice(0)) await g.close();
  });
  function gallery(people: number, withSecond: boolean): Gallery {
    const g = new Gallery({ dim: DIM, maxTemplates: 2048, kernel: { type: 'js', threads: 1 } });
    galleries.push(g);
    for (let i = 0; i < people; i++) g.setPerson(`p${i}`, [vec(DIM)], withSecond ? [vec2()] : []);
    return g;
  }

  it("impostorScores' fused best is what the door's search + fuse gives", () => {
    const g = gallery(40, true);
    for (let i = 0; i < 20; i++) {
      const q = vec(DIM);
      const q2 = vec2();
      const door = g.fuse(g.search(q)!, q2);
      const s = g.impostorScores(q, q2);
      expect(s.main).toBeCloseTo(g.search(q)!.score, 1);
      expect(s.fused).toBeCloseTo(door.score, 1);
    }
  });

  it('the operating point derives on fused scores with the second background, main otherwise', async () => {
    const g = gallery(150, true);
    const background = Array.from({ length: 400 }, () => vec(DIM));
    const backgroundSecond = Array.from({ length: 400 }, vec2);
    const sample = await sampleImpostors(g, background, { sliceMs: 0, backgroundSecond });
    expect(sample.fusedMaxima?.length).toBe(sample.maxima.length);
    const mainOp = new OperatingPoint(g, background, { targetFpir: 0.01, sample: { sliceMs: 0 } });
    await mainOp.derive();
    const mainState = mainOp.state;
    mainOp.close();
    const fusedOp = new OperatingPoint(g, background, { targetFpir: 0.01, sample: { sliceMs: 0 }, backgroundSecond });
    await fusedOp.derive();
    fusedOp.close();
    expect(mainState.scores).toBe('main');
    expect(fusedOp.state).toMatchObject({ scores: 'fused', source: 'derived' });
    expect(fusedOp.state.threshold).toBeGreaterThan(mainState.threshold);
    // No second templates in the gallery: main scores whatever the background.
    const plain = gallery(150, false);
    const op = new OperatingPoint(plain, background, { targetFpir: 0.01, sample: { sliceMs: 0 }, backgroundSecond });
    await op.derive();
    op.close();
    expect(op.state.scores).toBe('main');
  });
});
