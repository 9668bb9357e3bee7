/** Box and point maths shared by the pipeline stages. Pure functions, unit-tested by hand cases. */
import type { Affine } from './warp.ts';

export type Point = [number, number];
/** Corner box [x1, y1, x2, y2] in source pixels. */
export type Box = [number, number, number, number];

export interface ScoredBox {
  box: Box;
  score: number;
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const areaA = Math.max(0, a[2] - a[0]) * Math.max(0, a[3] - a[1]);
  const areaB = Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy hard NMS: keep the best box, drop every box overlapping it above `iouThreshold`. */
export function nms(boxes: ScoredBox[], iouThreshold: number, maxKeep = Infinity): ScoredBox[] {
  const sorted = [...boxes].sort((p, q) => q.score - p.score);
  const keep: ScoredBox[] = [];
  const dropped = new Uint8Array(sorted.length);
  for (let i = 0; i < sorted.length && keep.length < maxKeep; i++) {
    if (dropped[i]) continue;
    keep.push(sorted[i]);
    for (let j = i + 1; j < sorted.length; j++) {
      if (!dropped[j] && iou(sorted[i].box, sorted[j].box) > iouThreshold) dropped[j] = 1;
    }
  }
  return keep;
}

/**
 * ArcFace 112x112 reference positions of left eye, right eye, nose tip, left and right mouth
 * corner (the insightface template the embedding model was trained on).
 */
export const ARCFACE_TEMPLATE: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

const mean = (pts: Point[], i: number[]): Point => [
  i.reduce((s, k) => s + pts[k][0], 0) / i.length,
  i.reduce((s, k) => s + pts[k][1], 0) / i.length,
];

/** 68-point (iBUG) landmarks to the 5 ArcFace points: eye centres, nose tip, mouth corners. */
export function landmarks68to5(p: Point[]): Point[] {
  return [mean(p, [37, 38, 40, 41]), mean(p, [43, 44, 46, 47]), p[30], mean(p, [48, 60]), mean(p, [54, 64])];
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation) taking `src` onto
 * `dst`: Umeyama (1991). In 2-D with no reflection the SVD solution reduces to the closed form
 * below: with centred points, a = sum(s.d) / sum|s|^2 and b = sum(s x d) / sum|s|^2, where
 * a = k*cos(theta) and b = k*sin(theta). Returns dst = M * src.
 */
export function estimateSimilarity(src: Point[], dst: Point[]): Affine {
  if (src.length !== dst.length || src.length < 2) throw new Error('need at least two point pairs of equal count');
  const n = src.length;
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i][0]; msy += src[i][1]; mdx += dst[i][0]; mdy += dst[i][1];
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx, sy = src[i][1] - msy;
    const dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (norm < 1e-12) throw new Error('source points are all the same point');
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, mdx - (a * msx - b * msy), b, a, mdy - (b * msx + a * msy)];
}

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

export interface HeadPose {
  yaw: number;
  pitch: number;
  roll: number;
}

const DEG = 180 / Math.PI;

/**
 * Rough head pose in degrees from the five points, cheap enough for every frame. Roll is the eye
 * line angle; yaw from how far the nose sits off the eye midline (0 frontal, +-90 profile);
 * pitch from where the nose sits between eye line and mouth line (about 0.5 on the frontal ArcFace template).
 */
export function poseFromLandmarks(p5: Point[]): HeadPose {
  const [le, re, nose, lm, rm] = p5;
  const roll = Math.atan2(re[1] - le[1], re[0] - le[0]) * DEG;
  // Undo roll so the remaining measures are in the face's own frame.
  const c = Math.cos(-roll / DEG), s = Math.sin(-roll / DEG);
  const rot = (q: Point): Point => [q[0] * c - q[1] * s, q[0] * s + q[1] * c];
  const [L, R, N, ML, MR] = [le, re, nose, lm, rm].map(rot);
  const eyeMidX = (L[0] + R[0]) / 2;
  const half = Math.max(1e-6, (R[0] - L[0]) / 2);
  const yaw = Math.asin(Math.max(-1, Math.min(1, (N[0] - eyeMidX) / (half * 1.6)))) * DEG;
  const eyeY = (L[1] + R[1]) / 2;
  const mouthY = (ML[1] + MR[1]) / 2;
  const t = (N[1] - eyeY) / Math.max(1e-6, mouthY - eyeY);
  const pitch = Math.asin(Math.max(-1, Math.min(1, (t - 0.5) / 0.35))) * DEG;
  return { yaw, pitch, roll };
}
