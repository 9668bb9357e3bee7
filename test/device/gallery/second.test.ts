/** The second template set: fused re-rank near the threshold, main score for people without one. */
import { afterEach, describe, expect, it } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import type { GalleryConfig } from '../../../device/gallery/config.ts';

const DIM = 64;
/** A unit vector whose cosine to e0 is `c` (the rest along axis `axis`). */
const at = (c: number, axis: number, dim = DIM) => {
  const v = new Float32Array(dim);
  v[0] = c;
  v[axis] = Math.sqrt(1 - c * c);
  return v;
};
const unit = (axis: number, dim = 8) => at(0, axis, dim);
const probe = at(1, 1);

const galleries: Gallery[] = [];
afterEach(async () => {
  for (const g of galleries.splice(0)) await g.close();
});
function gallery(config: Partial<GalleryConfig> = {}): Gallery {
  const g = new Gallery({ dim: DIM, maxTemplates: 64, kernel: { type: 'js', threads: 1 }, ...config });
  galleries.push(g);
  return g;
}

describe('gallery second embedding', () => {
  it('fusion flips the winner inside the band: the mean of both cosines re-ranks the top candidates', () => {
    const g = gallery();
    g.setPerson('a', [at(0.55, 2)], [unit(1)]);
    g.setPerson('b', [at(0.5, 3)], [unit(2)]);
    const hit = g.search(probe)!;
    expect(hit.personId).toBe('a');
    expect(g.needsSecond(hit, 0.5)).toBe(true);
    // The probe's second embedding looks like b's second template, not a's.
    const fused = g.fuse(hit, unit(2));
    expect(fused.personId).toBe('b');
    expect(fused.score).toBeCloseTo((0.5 + 1) / 2, 5);
    expect(fused.top.map((m) => m.personId)).toEqual(['b', 'a']);
    expect(fused.top[1].score).toBeCloseTo((0.55 + 0) / 2, 5);
    expect(fused.margin).toBeCloseTo(0.75 - 0.275, 5);
  });

  it('a person without a second template keeps the main score', () => {
    const g = gallery();
    g.setPerson('synced', [at(0.52, 2)]); // from the gateway: main template only
    g.setPerson('local', [at(0.48, 3)], [unit(1)]);
    const hit = g.search(probe)!;
    expect(g.needsSecond(hit, 0.5)).toBe(true);
    const fused = g.fuse(hit, unit(3));
    const synced = fused.top.find((m) => m.personId === 'synced')!;
    expect(synced.score).toBeCloseTo(0.52, 5);
    expect(fused.personId).toBe('synced');
    expect(fused.top.find((m) => m.personId === 'local')!.score).toBeCloseTo(0.24, 5);
  });

  it('outside the band (or with nobody holding a second template) nothing asks for the second model', () => {
    const g = gallery();
    g.setPerson('a', [at(0.9, 2)], [unit(1)]);
    const high = g.search(probe)!;
    expect(g.needsSecond(high, 0.5)).toBe(false);
    expect(g.needsSecond(g.search(at(0.3, 4))!, 0.75)).toBe(false); // best main score 0.27: refused outright
    expect(g.needsSecond(high, 0.85)).toBe(true);
    const main = gallery();
    main.setPerson('a', [at(0.9, 2)]);
    expect(main.needsSecond(main.search(probe), 0.85)).toBe(false);
    expect(g.needsSecond(null, 0.5)).toBe(false);
  });

  it('a re-sync without a second template drops the old one; removal drops it; adaptive updates keep it', () => {
    const g = gallery();
    g.setPerson('a', [at(0.6, 2)], [unit(1), unit(2)]);
    expect(g.hasSecond('a')).toBe(true);
    // Fused second template: the normalised mean of both.
    expect(g.fuse(g.search(probe)!, unit(1)).score).toBeCloseTo((0.6 + Math.SQRT1_2) / 2, 5);
    g.addAdaptiveTemplate('a', at(0.6, 3), 2);
    expect(g.hasSecond('a')).toBe(true);
    g.setPerson('a', [at(0.6, 2)]);
    expect(g.hasSecond('a')).toBe(false);
    expect(g.fuse(g.search(probe)!, unit(1)).score).toBeCloseTo(0.6, 5);
    g.addSecondTemplate('a', unit(1));
    expect(g.secondCount).toBe(1);
    g.removePerson('a');
    expect(g.secondCount).toBe(0);
    expect(() => g.addSecondTemplate('a', unit(1))).toThrow(/not enrolled/);
  });
});
