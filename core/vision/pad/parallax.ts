/**
 * Nose parallax: does a change of head pose come from a 3-D head or from a flat picture moved
 * in front of the camera? The eye and mouth corners lie roughly on one plane; the nose tip stands
 * well in front of it. Between two views of a flat picture every landmark follows one affine map
 * (a plane under weak perspective), so the nose lands where the eye/mouth corners predict. A real
 * head turn carries the nose sideways off that prediction by about its depth times the change in
 * sin(yaw). A picture tilted about a slanted axis shears the face and fools the landmark yaw
 * estimate (the nose slides off the eye midline), but not this test.
 */
import type { Point } from '../geometry.ts';

/** Eye corners, mouth corners, upper and lower lip centre: the near-planar part of the face. */
const PLANE = [36, 39, 42, 45, 48, 54, 51, 57];
const NOSE_TIP = 30;

type Affine6 = [number, number, number, number, number, number];

/** Least-squares affine map src -> dst (dst = [a b c; d e f] * [x y 1]); undefined when degenerate. */
export function fitAffine(src: Point[], dst: Point[]): Affine6 | undefined {
  // Normal equations of [x y 1] for each output coordinate; the 3x3 system is shared.
  let sxx = 0, sxy = 0, sx = 0, syy = 0, sy = 0;
  let bx0 = 0, bx1 = 0, bx2 = 0, by0 = 0, by1 = 0, by2 = 0;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const [x, y] = src[i];
    const [u, v] = dst[i];
    sxx += x * x; sxy += x * y; sx += x; syy += y * y; sy += y;
    bx0 += x * u; bx1 += y * u; bx2 += u;
    by0 += x * v; by1 += y * v; by2 += v;
  }
  const A = [[sxx, sxy, sx], [sxy, syy, sy], [sx, sy, n]];
  const det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) - A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) + A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
  if (!(Math.abs(det) > 1e-9)) return undefined;
  const solve = (b: number[]): number[] => [0, 1, 2].map((c) => {
    const M = A.map((row, r) => row.map((v, k) => (k === c ? b[r] : v)));
    return (M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) + M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0])) / det;
  });
  const [a, b, c] = solve([bx0, bx1, bx2]);
  const [d, e, f] = solve([by0, by1, by2]);
  return [a, b, c, d, e, f];
}

const iod = (p: Point[]) => Math.hypot(p[45][0] - p[36][0], p[45][1] - p[36][1]);

/**
 * How far the nose tip of `cur` sits off where a flat picture of `base` would put it, in
 * inter-ocular distances of `cur`. About 0.4-0.6 x |delta sin(yaw)| for a real head, ~0 (landmark
 * noise) for a picture; undefined when the landmarks are degenerate.
 */
export function noseParallax(base: Point[], cur: Point[]): number | undefined {
  const m = fitAffine(PLANE.map((i) => base[i]), PLANE.map((i) => cur[i]));
  const d = iod(cur);
  if (!m || !(d > 0)) return undefined;
  const [x, y] = base[NOSE_TIP];
  const px = m[0] * x + m[1] * y + m[2], py = m[3] * x + m[4] * y + m[5];
  return Math.hypot(cur[NOSE_TIP][0] - px, cur[NOSE_TIP][1] - py) / d;
}
