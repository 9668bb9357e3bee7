import { afterEach, describe, expect, it } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { decodeBackground, encodeBackground, loadBackground } from '../../../device/gallery/background.ts';
import { xorshift } from '../../../scripts/eval/rng.ts';

const DIM = 32;
const r = xorshift(3);
const vec = () => Float32Array.from({ length: DIM }, () => r() - 0.5);
const unit = (v: ArrayLike<number>) => {
  const n = Math.hypot(...Array.from(v));
  return Float32Array.from(v, (x) => x / n);
};
const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(unit(a)).reduce((s, x, i) => s + x * unit(b)[i], 0);
const sumOf = (vs: ArrayLike<number>[]) => Float32Array.from({ length: DIM }, (_, i) => vs.reduce((s, v) => s + unit(v)[i], 0));

const open: Gallery[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});
function gallery(fusion: 'mean' | 'best' = 'mean'): Gallery {
  const g = new Gallery({ dim: DIM, maxTemplates: 256, kernel: { type: 'js', threads: 1 }, fusion });
  open.push(g);
  return g;
}

describe('template fusion', () => {
  it('mean: one row per person, scoring the normalised mean of their templates', () => {
    const g = gallery();
    const photos = [vec(), vec(), vec()];
    g.setPerson('ann', photos);
    g.addTemplate('bob', vec());
    expect(g.size).toBe(2);
    expect(g.templateCount('ann')).toBe(3);
    const q = vec();
    expect(g.search(q, 2)!.top.find((m) => m.personId === 'ann')!.score).toBeCloseTo(cos(q, sumOf(photos)), 5);
    // Streaming the same templates one by one (as the store loads them) gives the same row.
    const h = gallery();
    for (const p of photos) h.addTemplate('ann', p);
    expect(h.search(q, 1)!.score).toBeCloseTo(cos(q, sumOf(photos)), 5);
  });

  it('best: every template is a row and a person scores their best one', () => {
    const g = gallery('best');
    const photos = [vec(), vec()];
    g.setPerson('ann', photos);
    expect(g.size).toBe(2);
    const q = photos[1];
    expect(g.search(q, 1)!).toMatchObject({ personId: 'ann', templateIndex: 1 });
    expect(g.search(q, 1)!.score).toBeCloseTo(1, 5);
  });

  it('adaptive templates: capped per person, the oldest replaced, enrolled ones kept, dropped on re-enrolment', () => {
    for (const fusion of ['mean', 'best'] as const) {
      const g = gallery(fusion);
      const enrolled = [vec(), vec()];
      g.setPerson('ann', enrolled);
      const a = [vec(), vec(), vec()];
      expect(g.addAdaptiveTemplate('ann', a[0], 2).replaced).toBe(false);
      expect(g.addAdaptiveTemplate('ann', a[1], 2).replaced).toBe(false);
      expect(g.addAdaptiveTemplate('ann', a[2], 2).replaced).toBe(true);
      expect(g.adaptiveCount('ann')).toBe(2);
      expect(g.templateCount('ann')).toBe(4);
      const kept = g.templatesOf('ann');
      // Enrolled first, then the two newest adaptive ones; a[0] is gone.
      [enrolled[0], enrolled[1], a[1], a[2]].forEach((v, i) => expect(cos(kept[i], v), `${fusion} #${i}`).toBeCloseTo(1, 4));
      if (fusion === 'mean') expect(g.search(a[0], 1)!.score).toBeCloseTo(cos(a[0], sumOf([...enrolled, a[1], a[2]])), 4);
      g.setPerson('ann', enrolled);
      expect(g.adaptiveCount('ann')).toBe(0);
      expect(g.templateCount('ann')).toBe(2);
      expect(() => g.addAdaptiveTemplate('zed', vec(), 2)).toThrow(/not enrolled/);
    }
  });

  it('tells listeners about every change of who or what is enrolled', () => {
    const g = gallery();
    let n = 0;
    const off = g.onChange(() => n++);
    g.addTemplate('a', vec());
    g.setPerson('b', [vec(), vec()]);
    g.addAdaptiveTemplate('b', vec(), 1);
    g.removePerson('a');
    g.removePerson('nobody');
    expect(n).toBe(4);
    off();
    g.addTemplate('c', vec());
    expect(n).toBe(4);
  });

  it('personScores: the best score per person, optionally leaving one out', () => {
    const g = gallery('best');
    const a = vec();
    g.setPerson('a', [a, vec()]);
    g.addTemplate('b', vec());
    const all = g.personScores(a);
    expect(all.length).toBe(2);
    expect(Math.max(...all)).toBeCloseTo(1, 1);
    expect(g.personScores(a, 'a').length).toBe(1);
  });
});

describe('background set file', () => {
  it('round-trips through int8 within quantization error and refuses other files', () => {
    const vs = [vec(), vec(), vec()];
    const back = decodeBackground(encodeBackground(vs));
    expect(back.length).toBe(3);
    back.forEach((b, i) => expect(cos(b, vs[i])).toBeGreaterThan(0.999));
    expect(() => decodeBackground(Buffer.from('nope'))).toThrow(/PBG1/);
    const truncated = encodeBackground(vs).subarray(0, 40);
    expect(() => decodeBackground(truncated)).toThrow(/bytes/);
  });

  it('the shipped file holds 512-d unit embeddings', () => {
    const bg = loadBackground();
    expect(bg.length).toBeGreaterThanOrEqual(1000);
    expect(bg[0].length).toBe(512);
    expect(Math.hypot(...Array.from(bg[0]))).toBeCloseTo(1, 5);
  });
});
