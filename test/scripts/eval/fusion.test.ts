/** Score fusion and its cross-validation (scripts/eval/fusion-metrics.ts), on hand-made scores. */
import { describe, expect, it } from 'vitest';
import { answer, crossValidate, evaluate, foldOf, type ProbeScores } from '../../../scripts/eval/fusion-metrics.ts';

const gallery = ['a', 'b'];
const probe = (identity: string, main: number[], second: number[], unknown = false): ProbeScores => ({
  identity,
  unknown,
  main: Float32Array.from(main),
  second: Float32Array.from(second),
});

describe('fusion variants', () => {
  it('lets the second model overturn a wrong main answer only where the fusion runs', () => {
    // Main prefers b (wrong) by a little; the second model strongly prefers a.
    const p = probe('a', [0.4, 0.42], [0.9, 0.1]);
    expect(answer(p, gallery, 'main', { w: 0.5 }).result.top?.personId).toBe('b');
    expect(answer(p, gallery, 'mean', { w: 0.5 }).result.top?.personId).toBe('a');
    // Best main score 0.42 is inside 0.4 +- 0.05: the second model runs and decides.
    const inBand = answer(p, gallery, 'gated', { w: 0.5, tMain: 0.4, band: 0.05 });
    expect(inBand).toMatchObject({ ranSecond: true, result: { top: { personId: 'a' } } });
    // Far above the band: main's answer stands, the second model never runs.
    const above = answer(p, gallery, 'gated', { w: 0.5, tMain: 0.2, band: 0.05 });
    expect(above).toMatchObject({ ranSecond: false, result: { top: { personId: 'b' } } });
    expect(above.result.top!.score).toBeGreaterThan(10);
    // Far below: refused outright.
    expect(answer(p, gallery, 'gated', { w: 0.5, tMain: 0.8, band: 0.05 }).result.top!.score).toBeLessThan(-9);
  });

  it('gives no answer for a probe without a face', () => {
    const p: ProbeScores = { identity: 'a', unknown: false, main: null, second: null };
    expect(answer(p, gallery, 'mean', { w: 0.5 })).toEqual({ result: { identity: 'a', top: null }, ranSecond: false });
  });

  it('counts how often the gated variant runs the second model', () => {
    const probes = [probe('a', [0.9, 0.1], [0.9, 0.1]), probe('b', [0.1, 0.45], [0.1, 0.9]), probe('x', [0.2, 0.1], [0.1, 0.2], true)];
    const f = evaluate(probes, gallery, 'gated', { w: 0.5, tMain: 0.45, band: 0.05 }, 0);
    expect(f.second_run_rate).toBeCloseTo(1 / 3);
    expect(f.tpir).toBe(1);
  });
});

describe('cross-validation', () => {
  it('puts each identity in one fold, the same on every run', () => {
    expect(foldOf('Grace_Hopper', 5)).toBe(foldOf('Grace_Hopper', 5));
    const folds = new Set(Array.from({ length: 200 }, (_, i) => foldOf(`person_${i}`, 5)));
    expect([...folds].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('returns held-out answers in the probes order, one per probe', () => {
    const probes: ProbeScores[] = [];
    for (let i = 0; i < 60; i++) {
      probes.push(probe(i % 2 ? 'a' : 'b', [0.3 + (i % 7) * 0.05, 0.3], [0.5, 0.2]));
      probes.push(probe(`u${i}`, [0.2 + (i % 5) * 0.03, 0.1], [0.1, 0.3], true));
    }
    const cv = crossValidate(probes, gallery, 'gated', 0.05, 5);
    expect(cv.answers).toHaveLength(probes.length);
    cv.answers.forEach((a, i) => expect(a.result.identity).toBe(probes[i].identity));
    expect(cv.params).toHaveLength(5);
  });
});
