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
    const [x1, y1, x2, y2] = key.box;
    const w = x2 - x1;
    const moved = Math.max(...([[x1, y1], [x2, y1], [x1, y2], [x2, y2]] as Point[]).map((c) => Math.hypot(applyAffine(m, c)[0] - c[0], applyAffine(m, c)[1] - c[1])));
    if (moved < this.p.minMove * w) return;
    this.test(key, m, o);
    this.key = this.makeKey(o, lm);
  }

  feature(): number | undefined {
    const n = this.counts.rigid + this.counts.still;
    return n >= this.p.minVotes ? this.counts.rigid / n : undefined;
  }

  /** Patch geometry around a face box: the ring plus a margin for the motion between frames. */
  private geometry(box: [number, number, number, number]) {
    const p = this.p;
    const [x1, y1, x2, y2] = box;
    const w = x2 - x1, h = y2 - y1, cx = (x1 + x2) / 2;
    const s = w / p.pxPerFace;
    const margin = 0.3 * w;
    const ox = cx - (p.outer / 2) * w - margin;
    const oy = y1 - p.topOuter * h - margin;
    const width = Math.round((p.outer * w + 2 * margin) / s);
    const height = Math.round((y2 + margin - oy) / s);
    const toPx = (X: number, Y: number) => [(X - ox) / s - 0.5, (Y - oy) / s - 0.5];
    const [lx1, ty1] = toPx(cx - (p.outer / 2) * w, y1 - p.topOuter * h);
    const [lx2, ty2] = toPx(cx - (p.inner / 2) * w, y1 - p.topInner * h);
    const [rx1] = toPx(cx + (p.inner / 2) * w, 0);
    const [rx2, sy2] = toPx(cx + (p.outer / 2) * w, y2);
    const [, sy1] = toPx(0, y1 - 0.25 * h);
    const rects: Rect[] = [
      [lx1, sy1, lx2, sy2],
      [rx1, sy1, rx2, sy2],
      [lx1, ty1, rx2, ty2],
    ];
    return { ox, oy, s, width, height, rects };
  }

  private makeKey(o: PadObservation, lm: Point[]): Key {
    const g = this.geometry(o.box);
    const patch = samplePatch(o.grey, g.ox, g.oy, g.s, g.width, g.height);
    const points = cornerPoints(patch, g.rects, this.p.win, 3, this.p.maxPoints, this.p.minEig);
    return { ts: o.ts, patch, points, lm, box: [...o.box] };
  }

  /** Sample the current frame on the key's grid and let each ring point vote rigid or still. */
  private test(key: Key, m: Affine, o: PadObservation): void {
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
  }
}

export const rigidMotionCue = (params: RigidMotionParams = DEFAULT_RIGID_MOTION): Cue => ({
  name: 'rigid_motion',
  create: () => new RigidMotionTracker(params),
});
