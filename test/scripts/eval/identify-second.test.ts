/** eval --identify with second embeddings: the door's gated fusion, figures beside the main model's. */
import { describe, expect, it } from 'vitest';
import { identifyBySize } from '../../../scripts/eval/identify-sizes.ts';
import { formatIdentifyReport, gatedThresholdAtFpir, runIdentification, thresholdAtFpir } from '../../../scripts/eval/identify.ts';
import type { EmbeddedImage } from '../../../scripts/eval/pairs.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

const DIM = 32;
const r = xorshift(5);
const gauss = () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
const vec = (n = DIM) => Float32Array.from({ length: n }, gauss);
const near = (v: Float32Array, noise = 0.9) => Float32Array.from(v, (x) => x + noise * gauss());

/** Each identity has a face under each model; the two models' noise is independent. */
function synthetic(people: number, unknown: number) {
  const emb = new Map<string, EmbeddedImage>();
  const rows: { path: string; identity: string }[] = [];
  const add = (identity: string, n: number) => {
    const [a, b] = [vec(), vec(16)];
    for (let i = 1; i <= n; i++) {
      const path = `/${identity}/${i}.jpg`;
      rows.push({ path, identity });
      emb.set(path, { embedding: near(a), second: near(b) });
    }
  };
  for (let i = 0; i < people; i++) add(`p${i}`, 3);
  for (let i = 0; i < unknown; i++) add(`u${i}`, 1);
  return { rows, emb };
}

const cfg = { dim: DIM, kernel: { type: 'js' as const, threads: 1 }, maxTemplates: 1024 };

describe('eval --identify with the second embedding', () => {
  it('fuses inside the band around each FPIR threshold and reports the main model alone beside it', async () => {
    const { rows, emb } = synthetic(150, 800);
    const fused = await runIdentification(rows, emb, 0.45, cfg);
    const mainOnly = await runIdentification(rows, new Map([...emb].map(([p, v]) => [p, { embedding: v.embedding }])), 0.45, cfg);
    expect(mainOnly.second).toBeUndefined();
    expect(fused.second!.main_tpir_at_fpir_1e2).toBe(mainOnly.tpir_at_fpir_1e2);
    expect(fused.tpir_at_fpir_1e2).toBeGreaterThan(mainOnly.tpir_at_fpir_1e2);
    for (const p of fused.second!.points) {
      expect(p.second_run_rate).toBeGreaterThan(0);
      expect(p.second_run_rate).toBeLessThan(1);
    }
    expect(formatIdentifyReport(fused)).toMatch(/main model alone TPIR@FPIR=0\.01/);
  });

  it('by gallery size: the threshold is derived on the gated fused scores, as the door votes, and keeps FPIR near the target', async () => {
    const people = Array.from({ length: 200 }, (_, i) => {
      const [a, b] = [vec(), vec(16)];
      return { identity: `p${i}`, enrol: [near(a)], probes: [near(a), near(a)], enrolSecond: [near(b)], probesSecond: [near(b), near(b)] };
    });
    const unknown = Array.from({ length: 1200 }, (_, i) => ({ identity: `u${i}`, embedding: vec(), second: vec(16) }));
    const fused = (await identifyBySize({ people, unknown }, [100, 200], 0.01, 0.5)).bySize;
    const main = (await identifyBySize({ people: people.map(({ enrolSecond: _a, probesSecond: _b, ...p }) => p), unknown: unknown.map(({ second: _s, ...u }) => u) }, [100, 200], 0.01, 0.5)).bySize;
    for (let i = 0; i < 2; i++) {
      expect(fused[i].threshold).not.toBe(main[i].threshold);
      expect(fused[i].achieved_fpir).toBeLessThan(0.04);
    }
    // The fused searches did run: some answers moved.
    expect(fused.some((f, i) => f.tpir !== main[i].tpir || f.achieved_fpir !== main[i].achieved_fpir)).toBe(true);
  }, 30_000);

  it('the FPIR threshold on gated scores is the lowest that holds with the band centred on itself', () => {
    // Main scores 0.00 .. 0.99; fused 0.2 higher: a main-score threshold lets fused strangers in.
    const unknown = Array.from({ length: 100 }, (_, i) => ({ identity: `u${i}`, main: { personId: 'p', score: i / 100 }, fused: { personId: 'p', score: i / 100 + 0.2 } }));
    const mainT = thresholdAtFpir(unknown.map((u) => ({ identity: u.identity, top: u.main })), 0.05).threshold;
    const votes = (t: number) => unknown.filter((u) => (Math.abs(u.main.score - t) <= 0.1 ? u.fused.score : u.main.score) >= t).length;
    expect(votes(mainT)).toBeGreaterThan(5);
    const t = gatedThresholdAtFpir(unknown, 0.1, 0.05);
    expect(votes(t)).toBeLessThanOrEqual(5);
    expect(votes(t - 1e-6)).toBeGreaterThan(5);
  });
});
