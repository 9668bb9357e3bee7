/**
 * Pixel sampling into model input tensors. Every crop the pipeline needs (detector resize,
 * landmark box, liveness context, ArcFace alignment, eye patches) is an affine map from output
 * pixel to source pixel, so one bilinear sampler serves them all and writes the normalised,
 * planar (CHW) float tensor directly: no intermediate images, no extra copies.
 */
import type { RgbImage } from './image.ts';
import { cropWithKernel, resizeWithKernel } from './resize.ts';

/** Row-major 2x3 affine matrix [a, b, c, d, e, f]: x' = a*x + b*y + c, y' = d*x + e*y + f. */
export type Affine = [number, number, number, number, number, number];

export type ChannelMode = 'rgb' | 'bgr' | 'grey';

export interface TensorSpec {
  width: number;
  height: number;
  mode: ChannelMode;
  /** value = (pixel - mean) * scale */
  mean: number;
  scale: number;
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error('affine map is not invertible');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** Map that sends the output rectangle [0,outW]x[0,outH] onto the source rectangle (x, y, w, h). */
export function rectToAffine(x: number, y: number, w: number, h: number, outW: number, outH: number): Affine {
  // Pixel centres: output pixel i covers source x + (i + 0.5) * w/outW - 0.5.
  const sx = w / outW;
  const sy = h / outH;
  return [sx, 0, x + 0.5 * sx - 0.5, 0, sy, y + 0.5 * sy - 0.5];
}

/**
 * Bilinear sample of `img` through `srcFromDst` into `out` (CHW, length channels*W*H).
 * Pixels outside the source read as 0, like OpenCV's warpAffine default border.
 */
export function sampleToTensor(img: RgbImage, srcFromDst: Affine, spec: TensorSpec, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(spec.width * spec.height * (spec.mode === 'grey' ? 1 : 3));
  // Rectangles of the frame VisionEngine.analyze() bound: the WebAssembly kernel (resize.ts).
  return cropWithKernel(img, srcFromDst, spec, dst) ? dst : sampleToTensorJs(img, srcFromDst, spec, dst);
}

/** The plain JS sampler: the reference the WebAssembly crop is tested against, and its fallback. */
export function sampleToTensorJs(img: RgbImage, srcFromDst: Affine, spec: TensorSpec, out?: Float32Array): Float32Array {
  const { width: W, height: H, mode, mean, scale } = spec;
  const plane = W * H;
  const channels = mode === 'grey' ? 1 : 3;
  const dst = out ?? new Float32Array(plane * channels);
  const src = img.data;
  const iw = img.width;
  const ih = img.height;
  const [a, b, c, d, e, f] = srcFromDst;
  // Channel offsets inside an RGB pixel for output planes 0..2.
  const o0 = mode === 'bgr' ? 2 : 0;
  const o2 = mode === 'bgr' ? 0 : 2;
  let r = 0, g = 0, bl = 0;
  for (let y = 0; y < H; y++) {
    let sx = b * y + c;
    let sy = e * y + f;
    for (let x = 0; x < W; x++, sx += a, sy += d) {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < iw && y0 + 1 < ih) {
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
        // Border: sum only the neighbours that lie inside the image.
        r = g = bl = 0;
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
      if (channels === 1) {
        // ITU-R BT.601 luma, as OpenCV's BGR2GRAY. (In grey mode o0 is R and o2 is B.)
        dst[i] = (0.299 * r + 0.587 * g + 0.114 * bl - mean) * scale;
      } else {
        dst[i] = (r - mean) * scale;
        dst[plane + i] = (g - mean) * scale;
        dst[2 * plane + i] = (bl - mean) * scale;
      }
    }
  }
  return dst;
}

/**
 * Resize the whole image to the tensor size. When shrinking by more than 1.5x a box filter
 * averages each output pixel's footprint first, so small faces in big frames do not alias away.
 */
export function resizeToTensor(img: RgbImage, spec: TensorSpec, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(spec.width * spec.height * (spec.mode === 'grey' ? 1 : 3));
  return resizeWithKernel(img, spec, dst) ? dst : resizeToTensorJs(img, spec, dst);
}

/** The plain JS resize: the reference the WebAssembly kernel is tested against, and its fallback. */
export function resizeToTensorJs(img: RgbImage, spec: TensorSpec, out?: Float32Array): Float32Array {
  const fx = img.width / spec.width;
  const fy = img.height / spec.height;
  if (fx <= 1.5 && fy <= 1.5) return resizeBilinear(img, spec, out);
  const { width: W, height: H, mode, mean, scale } = spec;
  const plane = W * H;
  const dst = out ?? new Float32Array(plane * (mode === 'grey' ? 1 : 3));
  const src = img.data;
  const iw = img.width;
  const o0 = mode === 'bgr' ? 2 : 0;
  const o2 = mode === 'bgr' ? 0 : 2;
  for (let y = 0; y < H; y++) {
    const ya = Math.floor(y * fy);
    const yb = Math.max(ya + 1, Math.min(img.height, Math.floor((y + 1) * fy)));
    for (let x = 0; x < W; x++) {
      const xa = Math.floor(x * fx);
      const xb = Math.max(xa + 1, Math.min(iw, Math.floor((x + 1) * fx)));
      let r = 0, g = 0, b = 0;
      for (let yy = ya; yy < yb; yy++) {
        let p = (yy * iw + xa) * 3;
        for (let xx = xa; xx < xb; xx++, p += 3) {
          r += src[p + o0];
          g += src[p + 1];
          b += src[p + o2];
        }
      }
      const n = (yb - ya) * (xb - xa);
      const i = y * W + x;
      if (mode === 'grey') dst[i] = ((0.299 * r + 0.587 * g + 0.114 * b) / n - mean) * scale;
      else {
        dst[i] = (r / n - mean) * scale;
        dst[plane + i] = (g / n - mean) * scale;
        dst[2 * plane + i] = (b / n - mean) * scale;
      }
    }
  }
  return dst;
}

/**
 * Whole-image bilinear resize with edge replication (what cv.resize does), with the column
 * indices and weights computed once per call instead of per pixel: the detector input is the
 * largest tensor in the pipeline.
 */
function resizeBilinear(img: RgbImage, spec: TensorSpec, out?: Float32Array): Float32Array {
  const { width: W, height: H, mode, mean, scale } = spec;
  const plane = W * H;
  const dst = out ?? new Float32Array(plane * (mode === 'grey' ? 1 : 3));
  const src = img.data;
  const iw = img.width;
  const ih = img.height;
  const sx = iw / W;
  const sy = ih / H;
  const xa = new Int32Array(W);
  const xb = new Int32Array(W);
  const wx = new Float32Array(W);
  for (let x = 0; x < W; x++) {
    const f = Math.min(iw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
    const x0 = Math.floor(f);
    xa[x] = x0 * 3;
    xb[x] = Math.min(iw - 1, x0 + 1) * 3;
    wx[x] = f - x0;
  }
  const o0 = mode === 'bgr' ? 2 : 0;
  const o2 = mode === 'bgr' ? 0 : 2;
  for (let y = 0; y < H; y++) {
    const f = Math.min(ih - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(f);
    const wy = f - y0;
    const r0 = y0 * iw * 3;
    const r1 = Math.min(ih - 1, y0 + 1) * iw * 3;
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const a = xa[x];
      const b = xb[x];
      const w = wx[x];
      const w00 = (1 - w) * (1 - wy);
      const w10 = w * (1 - wy);
      const w01 = (1 - w) * wy;
      const w11 = w * wy;
      const r = src[r0 + a + o0] * w00 + src[r0 + b + o0] * w10 + src[r1 + a + o0] * w01 + src[r1 + b + o0] * w11;
      const g = src[r0 + a + 1] * w00 + src[r0 + b + 1] * w10 + src[r1 + a + 1] * w01 + src[r1 + b + 1] * w11;
      const bl = src[r0 + a + o2] * w00 + src[r0 + b + o2] * w10 + src[r1 + a + o2] * w01 + src[r1 + b + o2] * w11;
      const i = row + x;
      if (mode === 'grey') dst[i] = (0.299 * r + 0.587 * g + 0.114 * bl - mean) * scale;
      else {
        dst[i] = (r - mean) * scale;
        dst[plane + i] = (g - mean) * scale;
        dst[2 * plane + i] = (bl - mean) * scale;
      }
    }
  }
  return dst;
}
