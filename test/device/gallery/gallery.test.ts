import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { xorshift } from '../../../scripts/eval/rng.ts';
import { compileKernel, KERNELS } from '../../../scripts/build-kernels.ts';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { kernelWasmBase64 } from '../../../device/gallery/kernel-wasm.ts';
import { referenceSearch, type ReferenceTemplate } from '../../../device/gallery/reference.ts';
import { Int8Scorer, jsScores } from '../../../device/gallery/scorer.ts';

const DIM = 512;

const rng = xorshift;

/** People as a random base vector; each template is the base plus noise (like real embeddings). */
function makePeople(seed: number, people: number, perPerson: number, noise = 0.6): ReferenceTemplate[] {
  const r = rng(seed);
  const g = () => (r() + r() + r() - 1.5) * 2;
  const out: ReferenceTemplate[] = [];
  for (let p = 0; p < people; p++) {
    const base = Float32Array.from({ length: DIM }, g);
    for (let t = 0; t < perPerson; t++) out.push({ personId: `p${p}`, embedding: base.map((x) => x + noise * g()) });
  }
  return out;
}

function noisy(v: ArrayLike<number>, seed: number, amount: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from(v, (x) => x + amount * (r() - 0.5) * 3);
}

const open: Gallery[] = [];
// These tests check the search engine against the best-of reference; mean fusion has its own file.
function gallery(cfg: ConstructorParameters<typeof Gallery>[0] = {}): Gallery {
  const g = new Gallery({ fusion: 'best', ...cfg });
  open.push(g);
  return g;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

describe('wasm kernel', () => {
  it('committed bytes match kernel.wat', async () => {
    const bytes = await compileKernel(KERNELS.gallery);
    expect(Buffer.from(bytes).toString('base64')).toBe(kernelWasmBase64);
    expect(readFileSync(new URL('../../../device/gallery/kernel.wat', import.meta.url), 'utf8')).toContain('i32x4.dot_i16x8_s');
  });

  it('scores every row like the plain JS int8 loop, across worker slices', () => {
    const rows = 9000; // above the parallel threshold so the worker slice runs
    const s = new Int8Scorer({ dim: DIM, kernel: 'wasm-simd', threads: 2, maxRows: rows });
    try {
      s.ensureCapacity(rows);
      const r = rng(7);
      for (let i = 0; i < rows * DIM; i++) s.templates[i] = Math.round((r() - 0.5) * 254);
      for (let i = 0; i < rows; i++) s.scales[i] = 0.001 + r() * 0.01;
      for (let i = 0; i < DIM; i++) s.query[i] = Math.round((r() - 0.5) * 254);
      s.out.fill(NaN);
      s.score(rows);
      const expected = new Float32Array(rows);
      jsScores(s.query, s.templates, s.scales, expected, 0, rows, DIM);
      for (let i = 0; i < rows; i++) expect(Math.abs(s.out[i] - expected[i])).toBeLessThanOrEqual(Math.abs(expected[i]) * 1e-6 + 1e-9);
      expect(s.threadCount).toBe(2);
    } finally {
      void s.close();
    }
  });
});

describe('Gallery search', () => {
  const people = makePeople(1, 2000, 5); // 10,000 templates: parallel path
  for (const [name, cfg] of [
    ['wasm-simd x2', { kernel: { type: 'wasm-simd' as const, threads: 2 } }],
    ['js', { kernel: { type: 'js' as const, threads: 1 } }],
  ] as const) {
    it(`${name}: matches the exact fp32 reference (people, scores, template index, margin)`, () => {
      const g = gallery(cfg);
      for (const t of people) g.addTemplate(t.personId, t.embedding);
      expect(g.size).toBe(10_000);
      expect(g.personCount).toBe(2000);
      for (let q = 0; q < 8; q++) {
        const query = noisy(people[q * 37].embedding, 100 + q, 0.8);
        const ref = referenceSearch(people, query, 5);
        const got = g.search(query, 5)!;
        expect(got.top.map((m) => m.personId)).toEqual(ref.map((m) => m.personId));
        got.top.forEach((m, i) => {
          expect(m.score).toBeCloseTo(ref[i].score, 5);
          expect(m.templateIndex).toBe(ref[i].templateIndex);
        });
        expect(got.personId).toBe(people[q * 37].personId);
        expect(got.margin).toBeCloseTo(ref[0].score - ref[1].score, 5);
      }
    });
  }

  it('margin is against the best DIFFERENT person even when one person fills the top rows', () => {
    const g = gallery({ rerankExtra: 0 });
    const r = rng(3);
    const a = Float32Array.from({ length: DIM }, () => r() - 0.5);
    for (let i = 0; i < 20; i++) g.addTemplate('alice', noisy(a, i, 0.01));
    const b = noisy(a, 99, 0.9);
    g.addTemplate('bob', b);
    g.addTemplate('carol', Float32Array.from({ length: DIM }, () => r() - 0.5));
    const res = g.search(a, 2)!;
    expect(res.personId).toBe('alice');
    expect(res.top.map((m) => m.personId)).toEqual(['alice', 'bob']);
    const bobScore = referenceSearch([{ personId: 'bob', embedding: b }], a, 1)[0].score;
    expect(res.margin).toBeCloseTo(res.score - bobScore, 5);
  });

  it('empty gallery returns null; a single person has margin score + 1', () => {
    const g = gallery();
    expect(g.search(new Float32Array(DIM).fill(1))).toBeNull();
    g.addTemplate('solo', new Float32Array(DIM).fill(1));
    const res = g.search(new Float32Array(DIM).fill(2))!;
    expect(res.score).toBeCloseTo(1, 5);
    expect(res.margin).toBeCloseTo(2, 5);
    expect(res.top).toHaveLength(1);
  });

  it('removing people compacts the matrix and later searches still match the reference', () => {
    const set = makePeople(5, 300, 3);
    const g = gallery();
    for (const t of set) g.addTemplate(t.personId, t.embedding);
    const removed = new Set(['p0', 'p7', 'p150', 'p299']);
    for (const id of removed) expect(g.removePerson(id)).toBe(true);
    expect(g.removePerson('p0')).toBe(false);
    expect(g.size).toBe(set.length - removed.size * 3);
    expect(g.has('p7')).toBe(false);
    // Re-add a removed person with different templates; slots get reused.
    const again = makePeople(77, 1, 2).map((t) => ({ ...t, personId: 'p7' }));
    for (const t of again) g.addTemplate('p7', t.embedding);
    const remaining = [...set.filter((t) => !removed.has(t.personId)), ...again];
    for (const probe of [set[0], set[21], set[450], again[1]]) {
      const ref = referenceSearch(remaining, probe.embedding, 3);
      const got = g.search(probe.embedding, 3)!;
      expect(got.top.map((m) => [m.personId, m.templateIndex])).toEqual(ref.map((m) => [m.personId, m.templateIndex]));
    }
    expect(g.templateCount('p7')).toBe(2);
  });

  it('keepFloat=false re-ranks on int8 and still agrees with the exact ranking', () => {
    const g = gallery({ keepFloat: false });
    for (const t of people) g.addTemplate(t.personId, t.embedding);
    let agree = 0;
    for (let q = 0; q < 20; q++) {
      const query = noisy(people[q * 11].embedding, 500 + q, 0.8);
      const ref = referenceSearch(people, query, 1)[0];
      const got = g.search(query, 1)!;
      if (got.personId === ref.personId) agree++;
      expect(Math.abs(got.score - ref.score)).toBeLessThan(0.01);
    }
    expect(agree).toBe(20);
  });

  it('rejects bad embeddings without changing what is enrolled', () => {
    const g = gallery();
    g.addTemplate('x', new Float32Array(DIM).fill(1));
    expect(() => g.addTemplate('y', new Float32Array(10))).toThrow(/length 10/);
    expect(() => g.addTemplate('y', new Float32Array(DIM))).toThrow(/zero/);
    const nan = new Float32Array(DIM).fill(1);
    nan[3] = NaN;
    expect(() => g.setPerson('x', [new Float32Array(DIM).fill(-1), nan])).toThrow(/not finite/);
    expect(g.size).toBe(1);
    expect(g.search(new Float32Array(DIM).fill(1))!.score).toBeCloseTo(1, 5);
    expect(() => g.search(new Float32Array(3))).toThrow(/length 3/);
  });

  it('refuses to grow past maxTemplates with a clear error, keeping what it holds', () => {
    const g = gallery({ maxTemplates: 3 });
    const v = new Float32Array(DIM).fill(1);
    for (let i = 0; i < 3; i++) g.addTemplate(`p${i}`, v);
    expect(() => g.addTemplate('p3', v)).toThrow(/gallery full/);
    expect(g.size).toBe(3);
    expect(g.personCount).toBe(3);
  });
});
