/**
 * Synthetic faces for the PAD motion/challenge tests: a rough 3-D 68-point (iBUG) head whose
 * nose stands in front of the eye/mouth plane, projected at a given yaw; a flat picture of it
 * (every point on one plane); observations built from landmarks; seeded smooth textures.
 */
import { landmarks68to5, poseFromLandmarks, type Box, type Point } from '../../../../core/vision/geometry.ts';
import type { GreyImage, PadObservation } from '../../../../core/vision/pad/types.ts';

type P3 = [number, number, number];

/** Units: about 1/64 of the inter-ocular distance. +x image right, +y down, +z towards the camera. */
export const HEAD: P3[] = (() => {
  const p: P3[] = [];
  for (let t = 0; t <= 16; t++) {
    const phi = ((-90 + (t * 180) / 16) * Math.PI) / 180;
    p.push([70 * Math.sin(phi), -5 + 75 * Math.cos(phi), -5 - 35 * Math.abs(Math.sin(phi))]);
  }
  for (let t = 0; t < 5; t++) p.push([-55 + t * 11, -20 - (t === 2 ? 4 : 2), 5]);
  for (let t = 0; t < 5; t++) p.push([11 + t * 11, -20 - (t === 2 ? 4 : 2), 5]);
  p.push([0, -10, 10], [0, 2, 20], [0, 14, 30], [0, 26, 40]);
  for (const x of [-15, -8, 0, 8, 15]) p.push([x, 32, 32 - Math.abs(x) / 2]);
  const eye = (cx: number): P3[] => [[cx - 14, 0, -8], [cx - 6, -5, -3], [cx + 6, -5, -3], [cx + 14, 0, -5], [cx + 6, 4, -3], [cx - 6, 4, -3]];
  p.push(...eye(-32), ...eye(32).map(([x, y, z], i): P3 => [x, y, i === 0 ? -5 : i === 3 ? -8 : z]));
  const outer: [number, number][] = [[-25, 50], [-15, 45], [-5, 43], [0, 44], [5, 43], [15, 45], [25, 50], [15, 56], [5, 58], [0, 58], [-5, 58], [-15, 56]];
  for (const [x, y] of outer) p.push([x, y, 12 - Math.abs(x) / 3.5]);
  const inner: [number, number][] = [[-20, 50], [-7, 48], [0, 48], [7, 48], [20, 50], [7, 52], [0, 52], [-7, 52]];
  for (const [x, y] of inner) p.push([x, y, 10 - Math.abs(x) / 4]);
  return p;
})();

/** The head turned by `yawDeg` (positive: nose towards the image's right), scaled and placed at (cx, cy). */
export function headLandmarks(yawDeg: number, cx: number, cy: number, scale = 1, pts: P3[] = HEAD): Point[] {
  const a = (yawDeg * Math.PI) / 180;
  return pts.map(([x, y, z]) => [cx + scale * (x * Math.cos(a) + z * Math.sin(a)), cy + scale * y]);
}

/** A flat picture of the frontal head: the same 2-D landmarks, every point on one plane. */
export const FLAT: P3[] = HEAD.map(([x, y]) => [x, y, 0]);

export function boxOf(lm: Point[]): Box {
  const xs = lm.map((p) => p[0]), ys = lm.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys) - 10, Math.max(...xs), Math.max(...ys)];
}

const NO_IMG = { width: 0, height: 0, data: new Uint8Array(0) };
const NO_GREY: GreyImage = { width: 0, height: 0, data: new Uint8Array(0) };

/** An observation of a face with these landmarks (pose from them, as the engine does). */
export function observation(ts: number, lm: Point[], extra: Partial<PadObservation> = {}): PadObservation {
  const p5 = landmarks68to5(lm);
  return { ts, img: NO_IMG, grey: NO_GREY, box: boxOf(lm), landmarks68: lm, landmarks: p5, pose: poseFromLandmarks(p5), ...extra };
}

/** Seeded smooth random texture (value noise on a `cell`-pixel lattice), 0..255, sampled anywhere. */
export function texture(seed: number, cell = 5): (x: number, y: number) => number {
  const hash = (i: number, j: number) => {
    let h = (i * 374761393 + j * 668265263 + seed * 1442695041) | 0;
    h = Math.imul(h ^ (h >>> 13), 1274126177);
    return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  };
  return (x, y) => {
    const u = x / cell, v = y / cell;
    const i = Math.floor(u), j = Math.floor(v), fu = u - i, fv = v - j;
    const top = hash(i, j) + (hash(i + 1, j) - hash(i, j)) * fu;
    const bot = hash(i, j + 1) + (hash(i + 1, j + 1) - hash(i, j + 1)) * fu;
    return 40 + 175 * (top + (bot - top) * fv);
  };
}
