/**
 * Small downsampled grey patches for the motion cue: sample a region of a frame at a coarse
 * scale, pick textured points in it (Shi-Tomasi) and compare windows between two patches
 * (zero-mean SSD, so a screen's or camera's brightness change does not look like motion).
 * Working at ~40 px per face width keeps every step a few thousand pixels.
 */
import type { GreyImage } from './types.ts';

/** Grey patch whose pixel (x, y) covers source pixels around (ox + (x + 0.5) * s, oy + (y + 0.5) * s). NaN = outside the frame. */
export interface Patch {
  width: number;
  height: number;
  ox: number;
  oy: number;
  s: number;
  data: Float32Array;
}

/**
 * Average of four taps a quarter of a patch pixel off centre: enough low-pass that a 3-5x
 * downsample does not alias into false matches, at 4 reads per patch pixel instead of s^2.
 */
export function samplePatch(g: GreyImage, ox: number, oy: number, s: number, width: number, height: number, out?: Patch): Patch {
  const data = out && out.data.length === width * height ? out.data : new Float32Array(width * height);
  const W = g.width, H = g.height, src = g.data;
  const q = s / 4;
  // Tap columns once per patch, -1 where a tap leaves the frame.
  const c0 = new Int32Array(width), c1 = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    const cx = ox + (x + 0.5) * s;
    const x0 = Math.floor(cx - q), x1 = Math.floor(cx + q);
    const inside = x0 >= 0 && x1 < W;
    c0[x] = inside ? x0 : -1;
    c1[x] = inside ? x1 : -1;
  }
  for (let y = 0; y < height; y++) {
    const cy = oy + (y + 0.5) * s;
    const y0 = Math.floor(cy - q), y1 = Math.floor(cy + q);
    const row = y * width;
    if (y0 < 0 || y1 >= H) {
      data.fill(NaN, row, row + width);
      continue;
    }
    const r0 = y0 * W, r1 = y1 * W;
    for (let x = 0; x < width; x++) {
      const x0 = c0[x], x1 = c1[x];
      data[row + x] = x0 < 0 ? NaN : (src[r0 + x0] + src[r0 + x1] + src[r1 + x0] + src[r1 + x1]) * 0.25;
    }
  }
  return { width, height, ox, oy, s, data };
}

/** Axis-aligned rectangle in patch pixels, [x1, y1, x2, y2). */
export type Rect = [number, number, number, number];

/**
 * Up to `maxN` points inside `rects` with the strongest corner response (smaller eigenvalue of
 * the gradient structure tensor over a (2r+1)^2 window), on a `step` grid, at least `minEig` per
 * window pixel (grey levels^2). Edges and flat walls score low: a point there cannot tell one
 * motion from another.
 */
export function cornerPoints(p: Patch, rects: Rect[], r: number, step: number, maxN: number, minEig: number): [number, number][] {
  const { width: W, height: H, data } = p;
  // Integral images of gx^2, gy^2, gx*gy (and of invalid pixels) so each window costs 4 reads.
  const W1 = W + 1;
  const ixx = new Float64Array(W1 * (H + 1)), iyy = new Float64Array(W1 * (H + 1)), ixy = new Float64Array(W1 * (H + 1));
  const bad = new Int32Array(W1 * (H + 1));
  for (let y = 0; y < H; y++) {
    let rxx = 0, ryy = 0, rxy = 0, rb = 0;
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      let gx = 0, gy = 0;
      if (x > 0 && x < W - 1 && y > 0 && y < H - 1) {
        gx = (data[i + 1] - data[i - 1]) * 0.5;
        gy = (data[i + W] - data[i - W]) * 0.5;
      } else gx = NaN;
      const gg = gx + gy;
      if (gg !== gg) rb++;
      else {
        rxx += gx * gx;
        ryy += gy * gy;
        rxy += gx * gy;
      }
      const o = (y + 1) * W1 + x + 1, u = y * W1 + x + 1;
      ixx[o] = ixx[u] + rxx;
      iyy[o] = iyy[u] + ryy;
      ixy[o] = ixy[u] + rxy;
      bad[o] = bad[u] + rb;
    }
  }
  const box = (t: Float64Array | Int32Array, x: number, y: number) => {
    const a = (y - r) * W1 + x - r, b = (y + r + 1) * W1 + x + r + 1;
    return t[b] - t[(y - r) * W1 + x + r + 1] - t[(y + r + 1) * W1 + x - r] + t[a];
  };
  const n = (2 * r + 1) ** 2;
  const cands: { x: number; y: number; e: number }[] = [];
  for (const [rx1, ry1, rx2, ry2] of rects) {
    for (let y = Math.max(r + 1, Math.ceil(ry1)); y < Math.min(H - r - 1, ry2); y += step) {
      for (let x = Math.max(r + 1, Math.ceil(rx1)); x < Math.min(W - r - 1, rx2); x += step) {
        if (box(bad, x, y) > 0) continue;
        const sxx = box(ixx, x, y), syy = box(iyy, x, y), sxy = box(ixy, x, y);
        const tr = (sxx + syy) / 2;
        const e = (tr - Math.sqrt(Math.max(0, tr * tr - (sxx * syy - sxy * sxy)))) / n;
        if (e >= minEig) cands.push({ x, y, e });
      }
    }
  }
  cands.sort((a, b) => b.e - a.e);
  // Keep points at least two windows apart so a single strong corner does not cast many votes.
  const out: [number, number][] = [];
  const sep2 = (2 * r) ** 2;
  for (const c of cands) {
    if (out.length >= maxN) break;
    if (out.every(([x, y]) => (x - c.x) ** 2 + (y - c.y) ** 2 >= sep2)) out.push([c.x, c.y]);
  }
  return out;
}

/** Mean and variance-sum of a's window at integer (ax, ay); NaN when it leaves the frame. */
export function windowStats(a: Patch, ax: number, ay: number, r: number): { mean: number; ss: number } {
  let s = 0, s2 = 0;
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const v = a.data[(ay + dy) * a.width + ax + dx];
      s += v;
      s2 += v * v;
    }
  }
  const n = (2 * r + 1) ** 2;
  return { mean: s / n, ss: s2 - (s * s) / n };
}

/**
 * Zero-mean sum of squared differences between a's window at (ax, ay) and b's at (bx, by), both
 * integer; Infinity when b's window leaves b or the frame.
 */
export function zmssd(a: Patch, ax: number, ay: number, b: Patch, bx: number, by: number, r: number): number {
  if (bx - r < 0 || by - r < 0 || bx + r >= b.width || by + r >= b.height) return Infinity;
  let sd = 0, sd2 = 0;
  for (let dy = -r; dy <= r; dy++) {
    const ia = (ay + dy) * a.width + ax;
    const ib = (by + dy) * b.width + bx;
    for (let dx = -r; dx <= r; dx++) {
      const d = a.data[ia + dx] - b.data[ib + dx];
      sd += d;
      sd2 += d * d;
    }
  }
  const n = (2 * r + 1) ** 2;
  const v = sd2 - (sd * sd) / n;
  return Number.isNaN(v) ? Infinity : v;
}
