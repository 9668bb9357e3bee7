/**
 * sampleToTensor for axis-aligned maps (rectToAffine: the liveness context crop, the landmark
 * box, the eye patches), the crops that run on every face. The source column and row of each
 * output pixel, their weights and whether they lie inside the frame are worked out once per
 * column and once per row instead of per pixel, with the same f64 arithmetic in the same order
 * as the general loop in warp.ts, so the output is bit-identical to it (a test checks).
 */
import type { RgbImage } from './image.ts';
import type { Affine, TensorSpec } from './warp.ts';

interface Taps {
  /** Source index of the first neighbour (may be outside the frame). */
  i0: Int32Array;
  /** Fractional position between the two neighbours. */
  f: Float64Array;
}

/** Same accumulation as warp.ts: start at `start`, add `step` per output pixel. */
function taps(start: number, step: number, n: number): Taps {
  const t: Taps = { i0: new Int32Array(n), f: new Float64Array(n) };
  let s = start;
  for (let i = 0; i < n; i++, s += step) {
    const i0 = Math.floor(s);
    t.i0[i] = i0;
    t.f[i] = s - i0;
  }
  return t;
}

/** Whether `srcFromDst` maps rows to rows and columns to columns (no rotation or shear). */
export const isAxisAligned = (m: Affine): boolean => m[1] === 0 && m[3] === 0;

export function sampleAxisAligned(img: RgbImage, srcFromDst: Affine, spec: TensorSpec, dst: Float32Array): Float32Array {
  const { width: W, height: H, mode, mean, scale } = spec;
  const plane = W * H;
  const src = img.data;
  const iw = img.width;
  const ih = img.height;
  const [a, , c, , e, f] = srcFromDst;
  // warp.ts starts each row at b*y + c and adds a per pixel; with b = 0 every row starts at c.
  const cols = taps(c, a, W);
  const o0 = mode === 'bgr' ? 2 : 0;
  const o2 = mode === 'bgr' ? 0 : 2;
  const grey = mode === 'grey';
  for (let y = 0; y < H; y++) {
    const sy = e * y + f;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    const rowInside = y0 >= 0 && y0 + 1 < ih;
    for (let x = 0; x < W; x++) {
      const x0 = cols.i0[x];
      const fx = cols.f[x];
      let r = 0, g = 0, bl = 0;
      if (rowInside && x0 >= 0 && x0 + 1 < iw) {
        const p00 = (y0 * iw + x0) * 3;
        const p10 = p00 + 3;
        const p01 = p00 + iw * 3;
        const p11 = p01 + 3;
        const w00 = (1 - fx) * (1 - fy);
        const w10 = fx * (1 - fy);
        const w01 = (1 - fx) * fy;
        const w11 = fx * fy;
        r = src[p00 + o0] * w00 + src[p10 + o0] * w10 + src[p01 + o0] * w01 + src[p11 + o0] * w11;
        g = src[p00 + 1] * w00 + src[p10 + 1] * w10 + src[p01 + 1] * w01 + src[p11 + 1] * w11;
        bl = src[p00 + o2] * w00 + src[p10 + o2] * w10 + src[p01 + o2] * w01 + src[p11 + o2] * w11;
      } else {
        // Border: sum only the neighbours that lie inside the image (outside reads as black).
        for (let k = 0; k < 4; k++) {
          const xx = x0 + (k & 1);
          const yy = y0 + (k >> 1);
          if (xx < 0 || yy < 0 || xx >= iw || yy >= ih) continue;
          const w = (k & 1 ? fx : 1 - fx) * (k >> 1 ? fy : 1 - fy);
          const p = (yy * iw + xx) * 3;
          r += src[p + o0] * w;
          g += src[p + 1] * w;
          bl += src[p + o2] * w;
        }
      }
      const i = y * W + x;
      if (grey) dst[i] = (0.299 * r + 0.587 * g + 0.114 * bl - mean) * scale;
      else {
        dst[i] = (r - mean) * scale;
        dst[plane + i] = (g - mean) * scale;
        dst[2 * plane + i] = (bl - mean) * scale;
      }
    }
  }
  return dst;
}
