import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assignFolds, identityOfPath } from '../../../scripts/eval/folds.ts';
import { scorePairs, type EmbeddedImage } from '../../../scripts/eval/pairs.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

/** LFW-like pairs over 60 people: same pairs within a person, different pairs between neighbours. */
function lfwLike(people = 60): { a: string; b: string; same: boolean }[] {
  const out: { a: string; b: string; same: boolean }[] = [];
  for (let p = 0; p < people; p++) {
    out.push({ a: `img/P${p}/1.jpg`, b: `img/P${p}/2.jpg`, same: true });
    // Impostor pairs link people two by two, so identity groups stay small.
    if (p % 2 === 0) out.push({ a: `img/P${p}/1.jpg`, b: `img/P${p + 1}/1.jpg`, same: false });
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'portier-folds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pairs folds when the file has a single fold', () => {
  it('splits identity-disjoint into balanced seeded folds', () => {
    const pairs = lfwLike();
    const { folds, protocol } = assignFolds(pairs, 10, 7);
    expect(protocol).toBe('k-fold-identity-disjoint');
    expect(assignFolds(pairs, 10, 7).folds).toEqual(folds);
    const foldOf = new Map<string, number>();
    pairs.forEach((p, i) => {
      for (const id of [identityOfPath(p.a), identityOfPath(p.b)]) {
        expect(foldOf.get(id) ?? folds[i], id).toBe(folds[i]);
        foldOf.set(id, folds[i]);
      }
    });
    const sizes = Array.from({ length: 10 }, (_, f) => folds.filter((x) => x === f + 1).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(3);
  });

  it('falls back to a random pair split when one identity group holds most pairs', () => {
    // Everyone compared with P0: a single connected group.
    const pairs = Array.from({ length: 40 }, (_, i) => ({ a: 'img/P0/1.jpg', b: `img/P${i + 1}/1.jpg` }));
    const { folds, protocol } = assignFolds(pairs, 10);
    expect(protocol).toBe('k-fold-pairs');
    expect(new Set(folds).size).toBe(10);
  });

  it('eval --pairs on a one-fold file reports the k-fold protocol and thresholds picked out of fold', () => {
    const pairs = lfwLike();
    const file = join(dir, 'one-fold.tsv');
    writeFileSync(file, ['img1\timg2\tsame\tfold', ...pairs.map((p) => `${p.a}\t${p.b}\t${p.same ? 1 : 0}\t1`)].join('\n'));
    // Embeddings where same pairs score high, different pairs low, with some overlap.
    const r = xorshift(2);
    const emb = new Map<string, EmbeddedImage>();
    const v = (x: number) => Float32Array.from([x, Math.sqrt(1 - x * x)]);
    for (const p of pairs) {
      const base = join(dir, p.a);
      if (!emb.has(base)) emb.set(base, { embedding: v(1) });
      const s = p.same ? 0.4 + 0.5 * r() : 0.6 * r();
      emb.set(join(dir, p.b), { embedding: v(s) });
    }
    const { report } = scorePairs(file, emb, 0.5);
    expect(report.protocol).toBe('k-fold-identity-disjoint');
    expect(report.folds).toBe(10);
    expect(report.per_fold).toHaveLength(10);
    // Each fold's threshold comes from the other nine, so they differ.
    expect(new Set(report.per_fold.map((f) => f.threshold)).size).toBeGreaterThan(1);
    expect(report.accuracy).toBeGreaterThan(0.6);
  });

  it('a file with several folds keeps leave-one-fold-out', () => {
    const pairs = lfwLike(20);
    const file = join(dir, 'three-folds.tsv');
    writeFileSync(file, ['img1\timg2\tsame\tfold', ...pairs.map((p, i) => `${p.a}\t${p.b}\t${p.same ? 1 : 0}\t${(i % 3) + 1}`)].join('\n'));
    const emb = new Map<string, EmbeddedImage>(pairs.flatMap((p) => [[join(dir, p.a), { embedding: Float32Array.from([1, 0]) }], [join(dir, p.b), { embedding: Float32Array.from(p.same ? [0.9, 0.43] : [0.1, 0.99]) }]]));
    const { report } = scorePairs(file, emb, 0.5);
    expect(report).toMatchObject({ protocol: 'leave-one-fold-out', folds: 3 });
    expect(report.per_fold.map((f) => f.fold)).toEqual([1, 2, 3]);
  });
});
