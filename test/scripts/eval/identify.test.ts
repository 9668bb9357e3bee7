import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EmbeddedImage } from '../../../scripts/eval/pairs.ts';
import {
  chooseEnrolment,
  compareImagePaths,
  formatIdentifyReport,
  fpirAt,
  rank1,
  readManifest,
  runIdentification,
  splitOpenSet,
  thresholdAtFpir,
  tpirAt,
  type ProbeResult,
} from '../../../scripts/eval/identify.ts';

const hit = (identity: string, personId: string, score: number): ProbeResult => ({ identity, top: { personId, score } });
const miss = (identity: string): ProbeResult => ({ identity, top: null });
const unknowns = (scores: (number | null)[]) => scores.map((s, i) => (s === null ? miss(`u${i}`) : hit(`u${i}`, 'anyone', s)));

describe('enrolment order and open-set split', () => {
  it('sorts image numbers numerically: 10.jpg after 2.jpg', () => {
    const paths = ['img/A/10.jpg', 'img/A/2.jpg', 'img/A/1.jpg', 'img/A/21.jpg', 'img/A/3.jpg'];
    expect([...paths].sort(compareImagePaths)).toEqual(['img/A/1.jpg', 'img/A/2.jpg', 'img/A/3.jpg', 'img/A/10.jpg', 'img/A/21.jpg']);
  });

  it('enrols people with 2+ images from their lowest-numbered image; singles become unknown visitors', () => {
    const { people, unknown } = splitOpenSet([
      { path: 'img/A/10.jpg', identity: 'A' },
      { path: 'img/A/2.jpg', identity: 'A' },
      { path: 'img/B/1.jpg', identity: 'B' },
      { path: 'img/C/5.jpg', identity: 'C' },
      { path: 'img/C/12.jpg', identity: 'C' },
    ]);
    expect([...people.keys()].sort()).toEqual(['A', 'C']);
    expect(people.get('A')).toEqual(['img/A/2.jpg', 'img/A/10.jpg']);
    expect(people.get('C')![0]).toBe('img/C/5.jpg');
    expect(unknown).toEqual([{ path: 'img/B/1.jpg', identity: 'B' }]);
  });

  it('rejects a duplicated path and a row without identity', () => {
    expect(() => splitOpenSet([{ path: 'a', identity: 'A' }, { path: 'a', identity: 'A' }])).toThrow(/twice/);
    expect(() => splitOpenSet([{ path: 'a', identity: '' }])).toThrow(/identity/);
  });

  it('falls back to the next image with a face only when the first has none', () => {
    expect(chooseEnrolment(['1', '2', '3'], () => true)).toEqual({ enrol: '1', fallback: false });
    expect(chooseEnrolment(['1', '2', '3'], (p) => p !== '1')).toEqual({ enrol: '2', fallback: true });
    expect(chooseEnrolment(['1', '2'], () => false)).toEqual({ enrol: null, fallback: false });
  });
});

describe('open-set metrics', () => {
  it('picks the lowest threshold letting through at most floor(fpir * unknowns)', () => {
    // 200 unknown probes scoring 0.000 .. 0.199: FPIR 1e-2 allows 2 above threshold.
    const u = unknowns(Array.from({ length: 200 }, (_, i) => i / 1000));
    const t = thresholdAtFpir(u, 1e-2);
    expect(t.allowed).toBe(2);
    expect(t.false_positives).toBe(2);
    expect(t.achieved_fpir).toBe(0.01);
    // Just above the 3rd best unknown: 0.197 itself is rejected, 0.198 passes.
    expect(t.threshold).toBeGreaterThan(0.197);
    expect(t.threshold).toBeLessThan(0.197 + 1e-12);
    expect(fpirAt(u, t.threshold)).toBe(0.01);
    // FPIR 1e-3 of 200 allows none: threshold just above the best unknown.
    const z = thresholdAtFpir(u, 1e-3);
    expect(z.allowed).toBe(0);
    expect(z.false_positives).toBe(0);
    expect(z.threshold).toBeGreaterThan(0.199);
  });

  it('rejects a tie straddling the limit whole, so FPIR never exceeds the target', () => {
    // 100 unknowns, 1 allowed; the two best tie at 0.8.
    const u = unknowns([0.8, 0.8, ...Array.from({ length: 98 }, () => 0.1)]);
    const t = thresholdAtFpir(u, 1e-2);
    expect(t.allowed).toBe(1);
    expect(t.false_positives).toBe(0);
    expect(t.threshold).toBeGreaterThan(0.8);
    // A genuine probe tied with them at 0.8 is not accepted either.
    expect(tpirAt([hit('A', 'A', 0.8), hit('B', 'B', 0.81)], t.threshold)).toBe(0.5);
  });

  it('keeps faceless unknown probes in the denominator without counting them as false positives', () => {
    // 100 unknowns, 99 without a face: 1 allowed, so the single scored one may pass.
    const u = unknowns([0.9, ...Array.from({ length: 99 }, () => null)]);
    const t = thresholdAtFpir(u, 1e-2);
    expect(t.allowed).toBe(1);
    expect(t.threshold).toBe(-1);
    expect(t.false_positives).toBe(1);
    expect(fpirAt(u, 0.5)).toBe(0.01);
    // At 1e-3 none may pass: the threshold sits above 0.9, nulls never count.
    expect(thresholdAtFpir(u, 1e-3).false_positives).toBe(0);
    expect(() => thresholdAtFpir([], 1e-2)).toThrow(/unknown probe/);
  });

  it('counts a hit only with the right person on top and a score at the threshold; no face fails', () => {
    const mated = [hit('A', 'A', 0.5), hit('B', 'B', 0.49), hit('C', 'X', 0.9), miss('D')];
    expect(tpirAt(mated, 0.5)).toBe(1 / 4); // score == threshold is a match
    expect(tpirAt(mated, 0.4)).toBe(2 / 4); // the wrong person on top never counts
    expect(rank1(mated)).toBe(2 / 4); // closed set ignores the score; no face still fails
  });
});

describe('identification through the gallery (synthetic embeddings)', () => {
  const dim = 64;
  // Orthogonal-ish unit vectors: person k is axis k; a probe is its axis plus a little of another.
  const axis = (k: number, mix = 0, other = 0) => {
    const v = new Float32Array(dim);
    v[k] = 1;
    v[other] += mix;
    return v;
  };

  it('enrols the first image, probes the rest, and scores unknown visitors', async () => {
    const e = (v: Float32Array): EmbeddedImage => ({ embedding: v });
    const rows = [
      { path: '/A/1.jpg', identity: 'A' },
      { path: '/A/2.jpg', identity: 'A' },
      { path: '/A/10.jpg', identity: 'A' },
      { path: '/B/1.jpg', identity: 'B' },
      { path: '/B/2.jpg', identity: 'B' },
      { path: '/C/1.jpg', identity: 'C' }, // first image faceless: enrolled from 2.jpg
      { path: '/C/2.jpg', identity: 'C' },
      { path: '/C/3.jpg', identity: 'C' },
      { path: '/U1/1.jpg', identity: 'U1' },
      { path: '/U2/1.jpg', identity: 'U2' },
    ];
    const emb = new Map<string, EmbeddedImage>([
      ['/A/1.jpg', e(axis(0))],
      ['/A/2.jpg', e(axis(0, 0.5, 5))], // cos ~0.89 with A
      ['/A/10.jpg', e(axis(1, 0.1, 0))], // looks like B: a wrong top-1
      ['/B/1.jpg', e(axis(1))],
      ['/B/2.jpg', { error: 'no_face' }],
      ['/C/1.jpg', { error: 'no_face' }],
      ['/C/2.jpg', e(axis(2))],
      ['/C/3.jpg', e(axis(2, 1, 6))], // cos ~0.71 with C
      ['/U1/1.jpg', e(axis(0, 1.2, 7))], // cos ~0.64 with A
      ['/U2/1.jpg', { error: 'no_face' }],
    ]);
    const r = await runIdentification(rows, emb, 0.36, { dim, kernel: { type: 'js', threads: 1 }, maxTemplates: 64 });
    expect(r.enrolled).toBe(3);
    expect(r.enrol_fallback).toBe(1);
    expect(r.probes).toBe(4); // A/2, A/10, B/2, C/3 (C/1 was the enrolment attempt, C/2 the template)
    expect(r.unknown_probes).toBe(2);
    expect(r.no_face).toEqual({ enrolment: 1, probes: 1, unknown: 1 });
    expect(r.rank1).toBe(2 / 4);
    // 2 unknowns: FPIR 1e-2 allows none, so the threshold sits just above U1's 0.64;
    // A/2 (0.89) passes, C/3 (0.71) passes.
    expect(r.threshold_fpir_1e2).toBeGreaterThan(0.63);
    expect(r.tpir_at_fpir_1e2).toBe(2 / 4);
    expect(r.fpir_at_configured).toBe(1 / 2);
    const text = formatIdentifyReport(r);
    expect(text).toMatch(/enrolled 3 people/);
    expect(text).toMatch(/TPIR@FPIR=0\.001 50\.00%/);
    expect(JSON.parse(JSON.stringify(r)).tpir_at_fpir_1e3).toBe(0.5);
  });

  it('reads a manifest relative to its folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'identify-'));
    const file = join(dir, 'manifest.tsv');
    writeFileSync(file, 'path\tidentity\tsource_repo\nimg/A/1.jpg\tA\tx\n');
    expect(readManifest(file)).toEqual([{ path: join(dir, 'img/A/1.jpg'), identity: 'A' }]);
    writeFileSync(file, 'path\tidentity\nimg/A/1.jpg\t\n');
    expect(() => readManifest(file)).toThrow(/lacks path or identity/);
  });
});
