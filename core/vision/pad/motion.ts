/**
 * The `rigid_motion` cue. A face on a phone, tablet or paper moves as one plane with what
 * surrounds it (screen content, bezel, the holding hand): whatever 2-D motion the face makes,
 * the regions beside and above it make the same one. A live head moves against a background that
 * stays put. So: whenever the face has moved enough since a key frame (its similarity transform
 * from the landmarks), test textured points in a ring around the face (beside the head and above
 * the hair, never below the chin where the shoulders move with a live head) against two
 * hypotheses, "moved with the face" and "stayed still", and count which one matches.
 *
 * Feature: the fraction of decided ring points that moved with the face (1 = rigid, a planar
 * attack; 0 = the face moved over a static surround, a live head); undefined until enough points
 * were decided (a still face gives no evidence).
 *
 * Cost: landmarks give the face motion for free, so frames where the face has not moved enough
 * cost a few microseconds; a test samples two ~120x100 patches and matches ~40 7x7 windows.
 */
import { applyAffine, estimateSimilarity, type Point } from '../geometry.ts';
import type { Affine } from '../warp.ts';
import { cornerPoints, samplePatch, windowStats, zmssd, type Patch, type Rect } from './patch.ts';
import type { Cue, CueTracker, PadObservation } from './types.ts';

export interface RigidMotionParams {
  /** Patch pixels per face-box width: the scale all matching runs at. */
  pxPerFace: number;
  /** Ring beside the head: from `inner` to `outer` face widths wide, centred on the face box. */
  inner: number;
  outer: number;
  /** Band above the head, in face-box heights above the box top (hair sits just above the box). */
  topInner: number;
  topOuter: number;
  /** Face motion (face widths, largest box-corner displacement) between key and current frame before a test is made. */
  minMove: number;
  /** A key frame older than this is replaced without a test: slow drift and lighting change would blur the comparison. */
  maxKeyAgeMs: number;
  /** Matching window half-size (patch pixels) and search radius around each hypothesis. */
  win: number;
  search: number;
  /** Points per key frame and their minimum corner strength (grey levels^2 per pixel). */
  maxPoints: number;
  minEig: number;
  /** A point votes only when one hypothesis's error is below `ratio` times the other's and explains half its texture. */
  ratio: number;
  /** Decided points needed before the feature is reported. */
  minVotes: number;
}

export const DEFAULT_RIGID_MOTION: RigidMotionParams = {
  pxPerFace: 40,
  inner: 1.5,
  outer: 2.5,
  topInner: 0.4,
  topOuter: 0.8,
  minMove: 0.08,
  maxKeyAgeMs: 1000,
  win: 3,
  search: 1,
  maxPoints: 40,
  minEig: 4,
  ratio: 0.6,
  minVotes: 12,
};

// Brows, nose, eyes, mouth: the jaw contour slides along the cheek when the head turns.
const INNER_LANDMARKS = Array.from({ length: 51 }, (_, i) => i + 17);

type PatchFrame = Pick<Patch, 'ox' | 'oy' | 's' | 'width' | 'height'>;

interface Key {
  ts: number;
  patch: Patch;
  points: [number, number][];
  lm: Point[];
  box: [number, number, number, number];
}

export interface RigidMotionCounts {
  rigid: number;
  still: number;
  tests: number;
}

export class RigidMotionTracker implements CueTracker {
  private key?: Key;
  private scratch?: Patch;
  readonly counts: RigidMotionCounts = { rigid: 0, still: 0, tests: 0 };

  constructor(private readonly p: RigidMotionParams = DEFAULT_RIGID_MOTION) {}

  observe(o: PadObservation): void {
    const lm = INNER_LANDMARKS.map((i) => o.landmarks68[i]);
    if (lm.some((q) => !q)) return;
    const key = this.key;
    if (!key || o.ts - key.ts > this.p.maxKeyAgeMs || o.ts < key.ts) {
      this.key = this.makeKey(o, lm);
      return;
    }
    const m = estimateSimilarity(key.lm, lm);
    // A jump in scale is another face or a landmark failure, not motion: start again from here.
    const scale = Math.hypot(m[0], m[3]);
    if (scale > 1.3 || scale < 0.77) {
      this.key = this.makeKey(o, lm);
      return;
    }
    const [x1, y1, x2, y2] = key.box;
    const w = x2 - x1;
    const moved = Math.max(...([[x1, y1], [x2, y1], [x1, y2], [x2, y2]] as Point[]).map((c) => Math.hypot(applyAffine(m, c)[0] - c[0], applyAffine(m, c)[1] - c[1])));
    if (moved < this.p.minMove * w) return;
    const cur = this.test(key, m, o);
    this.key = this.makeKey(o, lm, cur);
    // The old key's buffer becomes the next test's scratch: no allocation per test.
    if (this.key.patch === cur) this.scratch = key.patch;
  }

  feature(): number | undefined {
    const n = this.counts.rigid + this.counts.still;
    return n >= this.p.minVotes ? this.counts.rigid / n : undefined;
  }

  /** Patch grid around a face box: the ring plus a margin for the motion between frames. */
  private frameFor(box: [number, number, number, number]): PatchFrame {
    const p = this.p;
    const [x1, y1, x2, y2] = box;
    const w = x2 - x1, h = y2 - y1, cx = (x1 + x2) / 2;
    const s = w / p.pxPerFace;
    const margin = 0.3 * w;
    const ox = cx - (p.outer / 2) * w - margin;
    const oy = y1 - p.topOuter * h - margin;
    return { ox, oy, s, width: Math.round((p.outer * w + 2 * margin) / s), height: Math.round((y2 + margin - oy) / s) };
  }

  /** The ring of `box` in the patch pixels of grid `f`: beside the head down to the chin, and above the hair. */
  private ring(box: [number, number, number, number], f: PatchFrame): Rect[] {
    const p = this.p;
    const [x1, y1, x2, y2] = box;
    const w = x2 - x1, h = y2 - y1, cx = (x1 + x2) / 2;
    const px = (X: number) => (X - f.ox) / f.s - 0.5, py = (Y: number) => (Y - f.oy) / f.s - 0.5;
    const lx1 = px(cx - (p.outer / 2) * w), lx2 = px(cx - (p.inner / 2) * w), rx1 = px(cx + (p.inner / 2) * w), rx2 = px(cx + (p.outer / 2) * w);
    const sy1 = py(y1 - 0.25 * h), sy2 = py(y2);
    return [
      [lx1, sy1, lx2, sy2],
      [rx1, sy1, rx2, sy2],
      [lx1, py(y1 - p.topOuter * h), rx2, py(y1 - p.topInner * h)],
    ];
  }

  /**
   * A new key frame. The patch just sampled for a test (on the old key's grid) is reused when
   * that grid still fits the face (moved less than its margin, same scale): one sampling per test.
   */
  private makeKey(o: PadObservation, lm: Point[], sampled?: Patch): Key {
    const ideal = this.frameFor(o.box);
    const w = o.box[2] - o.box[0];
    const fits = sampled && Math.abs(sampled.ox - ideal.ox) < 0.15 * w && Math.abs(sampled.oy - ideal.oy) < 0.15 * w && Math.abs(sampled.s / ideal.s - 1) < 0.1;
    const patch = fits ? sampled : samplePatch(o.grey, ideal.ox, ideal.oy, ideal.s, ideal.width, ideal.height);
    const points = cornerPoints(patch, this.ring(o.box, patch), this.p.win, 3, this.p.maxPoints, this.p.minEig);
    return { ts: o.ts, patch, points, lm, box: [...o.box] };
  }

  /** Sample the current frame on the key's grid and let each ring point vote rigid or still. */
  private test(key: Key, m: Affine, o: PadObservation): Patch {
    const kp = key.patch;
    const cur = (this.scratch = samplePatch(o.grey, kp.ox, kp.oy, kp.s, kp.width, kp.height, this.scratch));
    const { win: r, search, ratio } = this.p;
    this.counts.tests++;
    for (const [x, y] of key.points) {
      // The point in source pixels, where the face's motion would carry it, back in patch pixels.
      const src: Point = [kp.ox + (x + 0.5) * kp.s, kp.oy + (y + 0.5) * kp.s];
      const dst = applyAffine(m, src);
      const qx = (dst[0] - kp.ox) / kp.s - 0.5, qy = (dst[1] - kp.oy) / kp.s - 0.5;
      // Too close to where it started: the two hypotheses cannot be told apart here.
      if (Math.hypot(qx - x, qy - y) < 2 * search + 1) continue;
      const best = (bx: number, by: number) => {
        let e = Infinity;
        for (let dy = -search; dy <= search; dy++) for (let dx = -search; dx <= search; dx++) e = Math.min(e, zmssd(kp, x, y, cur, bx + dx, by + dy, r));
        return e;
      };
      const eStill = best(x, y);
      const eRigid = best(Math.round(qx), Math.round(qy));
      const texture = windowStats(kp, x, y, r).ss;
      const lo = Math.min(eStill, eRigid);
      if (!(lo < 0.5 * texture)) continue; // neither explains the window: occluded or changed
      if (eRigid < ratio * eStill) this.counts.rigid++;
      else if (eStill < ratio * eRigid) this.counts.still++;
    }
    this.scratch = undefined;
    return cur;
  }
}

export const rigidMotionCue = (params: RigidMotionParams = DEFAULT_RIGID_MOTION): Cue => ({
  name: 'rigid_motion',
  create: () => new RigidMotionTracker(params),
});
