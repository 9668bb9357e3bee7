import { describe, expect, it } from 'vitest';
import { identifyBySize, identityFold, type SizeInput } from '../../../scripts/eval/identify-sizes.ts';
import { chooseEnrolmentK, runIdentification } from '../../../scripts/eval/identify.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

const DIM = 32;
const r = xorshift(12);
const gauss = () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
const vec = () => Float32Array.from({ length: DIM }, gauss);
const near = (v: Float32Array) => Float32Array.from(v, (x) => x + 0.6 * gauss());

function synthetic(people: number, unknown: number): SizeInput {
  return {
    people: Array.from({ length: people }, (_, i) => {
      const face = vec();
      return { identity: `p${i}`, enrol: [near(face)], probes: [near(face), near(face)] };
    }),
    unknown: Array.from({ length: unknown }, (_, i) => ({ identity: `u${i}`, embedding: vec() })),
  };
}

describe('eval --identify --gallery-sizes', () => {
  it('reports one row per size up to everyone, the derived threshold rising with the size', async () => {
    const { bySize: rows, confidence } = await identifyBySize(synthetic(300, 1200), [50, 150, 1000], 0.01, 0.5);
    expect(rows.map((s) => s.people)).toEqual([50, 150, 300]);
    expect(rows[2].threshold).toBeGreaterThan(rows[0].threshold);
    for (const s of rows) {
      expect(s.expected_fpir).toBeLessThanOrEqual(0.01);
      expect(s.expected_fpir).toBeGreaterThan(0.003);
      expect(s.achieved_fpir).toBeLessThan(0.04);
      expect(s.tpir).toBeGreaterThan(0.5);
    }
  }, 30_000);

  it('cross-validates the tail confidence: each half judged at the choice of the other, a higher confidence never letting more in', async () => {
    const { confidence: c } = await identifyBySize(synthetic(300, 1200), [50, 300], 0.01, 0.5);
    expect(c.candidates).toContain(c.shipped);
    for (const chosen of [...c.chosen_by_fold, c.chosen_on_all]) expect(c.candidates).toContain(chosen);
    expect(Object.keys(c.cv_achieved_fpir_by_size)).toEqual(['50', '300']);
    for (const size of ['50', '300']) {
      const curve = c.candidates.map((k) => c.achieved_by_candidate[String(k)][size]);
      for (let i = 1; i < curve.length; i++) expect(curve[i]).toBeLessThanOrEqual(curve[i - 1]);
      // Each fold's FPIR is one of the candidates' for that fold, so the pooled one lies within the curve.
      expect(c.cv_achieved_fpir_by_size[size]).toBeLessThanOrEqual(curve[0]);
      expect(c.cv_achieved_fpir_by_size[size]).toBeGreaterThanOrEqual(curve[curve.length - 1]);
    }
  }, 60_000);

  it('background and unknown visitors come from different identities (fold by identity hash)', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `person_${i}`);
    const folds = ids.map((id) => identityFold(id));
    expect(folds.filter((f) => f === 0).length).toBeGreaterThan(150);
    expect(folds.filter((f) => f === 1).length).toBeGreaterThan(150);
    expect(ids.map((id) => identityFold(id))).toEqual(folds);
  });

  it('--enrol-images K: the first K usable images are enrolled and fused; the rest are probes', async () => {
    expect(chooseEnrolmentK(['1', '2', '3', '4'], 2, () => true)).toEqual({ enrol: ['1', '2'], fallback: false });
    expect(chooseEnrolmentK(['1', '2', '3', '4'], 2, (p) => p !== '1')).toEqual({ enrol: ['2', '3'], fallback: true });
    const face = vec();
    const other = vec();
    const emb = new Map([
      ['/a/1.jpg', { embedding: near(face) }],
      ['/a/2.jpg', { embedding: near(face) }],
      ['/a/3.jpg', { embedding: near(face) }],
      ['/b/1.jpg', { embedding: near(other) }],
      ['/b/2.jpg', { embedding: near(other) }],
      ['/u/1.jpg', { embedding: vec() }],
    ]);
    const rows = [...emb.keys()].map((path) => ({ path, identity: path.split('/')[1] }));
    const r2 = await runIdentification(rows, emb, 0.3, { dim: DIM, kernel: { type: 'js', threads: 1 }, maxTemplates: 64 }, 2);
    // a: 2 enrolled, 1 probe; b: 2 images = enrolled without probes; u: unknown.
    expect(r2).toMatchObject({ enrolled: 2, probes: 1, unknown_probes: 1 });
  });
});
