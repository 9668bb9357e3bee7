/**
 * Raster helpers for the crafted PAD clips (scripts/pad/crafted.ts): a static textured room,
 * bilinear sampling of the portrait, signed-distance shapes for anti-aliased device outlines and
 * seeded sensor noise. Plain loops over packed RGB: no canvas dependency, identical on every run.
 */
import { xorshift } from '../eval/rng.ts';
import type { RgbImage } from '../../core/vision/image.ts';

export type Rng = () => number;

export const clamp8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v | 0);

/** Mirror a coordinate into [0, n - 1) so screens and torsos larger than the portrait continue it without streaks. */
function reflect(x: number, n: number): number {
  const m = n - 1.001, period = 2 * m;
  let t = ((x % period) + period) % period;
  if (t > m) t = period - t;
  return t;
}

/** Bilinear RGB sample at (x, y); outside the image the portrait is mirrored. */
export function sampleRgb(img: RgbImage, x: number, y: number, out: Float32Array): void {
  const w = img.width, h = img.height, d = img.data;
  const cx = reflect(x, w), cy = reflect(y, h);
  const x0 = cx | 0, y0 = cy | 0, fx = cx - x0, fy = cy - y0;
  const i00 = (y0 * w + x0) * 3, i10 = i00 + 3, i01 = i00 + w * 3, i11 = i01 + 3;
  for (let c = 0; c < 3; c++) {
    const top = d[i00 + c] + (d[i10 + c] - d[i00 + c]) * fx;
    const bot = d[i01 + c] + (d[i11 + c] - d[i01 + c]) * fx;
    out[c] = top + (bot - top) * fy;
  }
}

/** Signed distance to a rounded rectangle centred at the origin (negative inside). */
export function roundRectSd(u: number, v: number, halfW: number, halfH: number, r: number): number {
  const qx = Math.abs(u) - halfW + r, qy = Math.abs(v) - halfH + r;
  const ox = Math.max(qx, 0), oy = Math.max(qy, 0);
  return Math.hypot(ox, oy) + Math.min(Math.max(qx, qy), 0) - r;
}

/** Signed distance (approximate, fine for anti-aliasing) to an axis-aligned ellipse at (cx, cy). */
export function ellipseSd(u: number, v: number, cx: number, cy: number, rx: number, ry: number): number {
  const k = Math.hypot((u - cx) / rx, (v - cy) / ry);
  return (k - 1) * Math.min(rx, ry);
}

/** Coverage of a 1-pixel anti-aliased edge from a signed distance. */
export const cover = (sd: number) => (sd <= -0.5 ? 1 : sd >= 0.5 ? 0 : 0.5 - sd);

/** Smooth value noise on a coarse lattice: wall blotches and lighting falloff. */
function valueNoise(w: number, h: number, cell: number, rng: Rng): Float32Array {
  const gw = Math.ceil(w / cell) + 2, gh = Math.ceil(h / cell) + 2;
  const g = new Float32Array(gw * gh).map(() => rng() * 2 - 1);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const gy = y / cell, y0 = gy | 0, fy = gy - y0, sy = fy * fy * (3 - 2 * fy);
    for (let x = 0; x < w; x++) {
      const gx = x / cell, x0 = gx | 0, fx = gx - x0, sx = fx * fx * (3 - 2 * fx);
      const a = g[y0 * gw + x0], b = g[y0 * gw + x0 + 1], c = g[(y0 + 1) * gw + x0], d = g[(y0 + 1) * gw + x0 + 1];
      out[y * w + x] = (a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy;
    }
  }
  return out;
}

interface Rect { x: number; y: number; w: number; h: number; rgb: [number, number, number] }

/**
 * A static room: lit wall with blotches, floor, and a few straight-edged objects (a door frame
 * or window on ONE side, a shelf or picture, a whiteboard). Live scenes in the real clips have
 * such edges too, so the border cue must not fire on them: they are placed off to one side and
 * not as a pair enclosing the face.
 */
export function roomBackground(width: number, height: number, seed: number): RgbImage {
  const rng = xorshift(seed * 7919 + 17);
  const wall: [number, number, number] = [150 + rng() * 60, 140 + rng() * 60, 120 + rng() * 60];
  const blotch = valueNoise(width, height, 48, rng);
  const fine = valueNoise(width, height, 6, rng);
  const floorY = Math.round(height * (0.78 + rng() * 0.1));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const light = 1.05 - 0.35 * (y / height) ** 1.5;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const tex = 14 * blotch[i] + 5 * fine[i];
      const floor = y >= floorY ? 0.55 : 1;
      for (let c = 0; c < 3; c++) data[i * 3 + c] = clamp8((wall[c] * light + tex) * floor);
    }
  }
  const side = rng() < 0.5 ? -1 : 1; // which side gets the door/window
  const rects: Rect[] = [];
  const doorX = side < 0 ? Math.round(width * (0.02 + rng() * 0.08)) : Math.round(width * (0.78 + rng() * 0.08));
  const doorW = Math.round(width * 0.14);
  const trim: [number, number, number] = [70 + rng() * 40, 55 + rng() * 30, 40 + rng() * 20];
  rects.push({ x: doorX, y: Math.round(height * 0.08), w: doorW, h: floorY - Math.round(height * 0.08), rgb: trim });
  rects.push({ x: doorX + 8, y: Math.round(height * 0.08) + 8, w: doorW - 16, h: floorY - Math.round(height * 0.08) - 8, rgb: [wall[0] * 0.8, wall[1] * 0.8, wall[2] * 0.85] });
  // Shelf/picture high on the other side, whiteboard low-contrast in the middle-top.
  const px = side < 0 ? Math.round(width * (0.68 + rng() * 0.1)) : Math.round(width * (0.05 + rng() * 0.1));
  rects.push({ x: px, y: Math.round(height * (0.1 + rng() * 0.1)), w: Math.round(width * 0.16), h: Math.round(height * 0.14), rgb: [60 + rng() * 120, 60 + rng() * 120, 60 + rng() * 120] });
  rects.push({ x: Math.round(width * 0.3), y: Math.round(height * 0.04), w: Math.round(width * 0.35), h: Math.round(height * 0.12), rgb: [225, 228, 230] });
  for (const r of rects) {
    for (let y = Math.max(0, r.y); y < Math.min(height, r.y + r.h); y++) {
      for (let x = Math.max(0, r.x); x < Math.min(width, r.x + r.w); x++) {
        const i = (y * width + x) * 3, t = 4 * fine[y * width + x];
        for (let c = 0; c < 3; c++) data[i + c] = clamp8(r.rgb[c] + t);
      }
    }
  }
  return { width, height, data };
}

/** Adds seeded sensor noise (uniform, +-amp) in place: consecutive frames are never identical. */
export function addNoise(img: RgbImage, amp: number, rng: Rng): void {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = clamp8(d[i] + (rng() * 2 - 1) * amp + 0.5);
}
