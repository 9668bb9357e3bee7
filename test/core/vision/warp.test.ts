import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../core/vision/image.ts';
import { invertAffine, rectToAffine, resizeToTensor, sampleToTensor, type Affine } from '../../../core/vision/warp.ts';

function image(w: number, h: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y), (y * w + x) * 3);
  return { width: w, height: h, data };
}

const raw = { mode: 'rgb' as const, mean: 0, scale: 1 };

describe('warp', () => {
  it('samples a same-size rectangle pixel for pixel, planar RGB', () => {
    const img = image(4, 3, (x, y) => [x * 10, y * 10, 200]);
    const t = sampleToTensor(img, rectToAffine(0, 0, 4, 3, 4, 3), { width: 4, height: 3, ...raw });
    expect(Array.from(t.subarray(0, 4))).toEqual([0, 10, 20, 30]);
    expect(Array.from(t.subarray(12, 16))).toEqual([0, 0, 0, 0]);
    expect(t[12 + 4]).toBe(10);
    expect(t[24]).toBe(200);
  });

  it('swaps to BGR, converts to grey by BT.601, normalises', () => {
    const img = image(2, 2, () => [255, 0, 0]);
    const bgr = sampleToTensor(img, rectToAffine(0, 0, 2, 2, 2, 2), { width: 2, height: 2, mode: 'bgr', mean: 127, scale: 1 / 128 });
    expect(bgr[0]).toBeCloseTo(-127 / 128, 6);
    expect(bgr[8]).toBeCloseTo(1, 6);
    const grey = sampleToTensor(img, rectToAffine(0, 0, 2, 2, 2, 2), { width: 2, height: 2, mode: 'grey', mean: 0, scale: 1 });
    expect(grey[0]).toBeCloseTo(0.299 * 255, 3);
  });

  it('reads outside the image as black', () => {
    const img = image(2, 2, () => [100, 100, 100]);
    const shifted: Affine = [1, 0, 10, 0, 1, 10];
    const t = sampleToTensor(img, shifted, { width: 2, height: 2, ...raw });
    expect(Array.from(t)).toEqual(new Array(12).fill(0));
  });

  it('box-filters a large downscale instead of aliasing', () => {
    // 1-pixel black/white stripes: bilinear point sampling would see only one colour.
    const img = image(64, 64, (x) => (x % 2 ? [255, 255, 255] : [0, 0, 0]));
    const t = resizeToTensor(img, { width: 8, height: 8, ...raw });
    for (const v of t.subarray(0, 64)) expect(v).toBeCloseTo(127.5, 6);
  });

  it('upscales with edge replication like cv.resize', () => {
    const img = image(2, 1, (x) => (x ? [200, 200, 200] : [0, 0, 0]));
    const t = resizeToTensor(img, { width: 4, height: 1, ...raw });
    expect(Array.from(t.subarray(0, 4))).toEqual([0, 50, 150, 200]);
  });

  it('inverts an affine map', () => {
    const m: Affine = [2, -1, 5, 1, 3, -2];
    const inv = invertAffine(m);
    const p = [7, -3];
    const q = [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
    expect(inv[0] * q[0] + inv[1] * q[1] + inv[2]).toBeCloseTo(7, 9);
    expect(inv[3] * q[0] + inv[4] * q[1] + inv[5]).toBeCloseTo(-3, 9);
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow(/not invertible/);
  });
});
