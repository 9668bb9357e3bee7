/**
 * `screen_border` cue: does a straight-edged frame (phone or tablet bezel, monitor, paper edge)
 * enclose the face? A phone held up to the camera puts two near-parallel, near-vertical edges
 * on both sides of the face, 0.5-2 face widths out, running unbroken from above the head to well
 * below the chin. A live scene has straight edges too (door frames, windows, whiteboards) but
 * rarely a parallel pair on both sides, and below the chin the shoulders cut them.
 *
 * Per frame: the region around the face is resampled so a face is FACE_PX pixels wide (cost does
 * not depend on resolution or face size), gradients are taken, and every near-vertical edge pixel
 * votes in a small Hough space (tilt within +-15 degrees x position at the face centre row, one
 * space per gradient polarity). A candidate line's support is the share of rows it covers in
 * three stretches: the head top, the face, below the chin (weighted double); a missing stretch
 * (outside the frame) is left out. The frame score is the best parallel left/right pair of
 * opposite polarity (what lies between differs from both outsides the same way, as a screen or
 * bezel does), min of the two supports.
 *
 * Parameters (FACE_PX, INNER, WEIGHTS, mirrored pairs) were chosen leaving one subject out on the
 * labelled clips (scripts/pad/measure-cues.ts): the same setting won in 9 of 10 folds.
 */
import type { Box } from '../geometry.ts';
import { robustTrackStat } from './track-stat.ts';
import type { Cue, CueTracker, GreyImage, PadObservation } from './types.ts';

/**
 * Resampled face width, px. 32 px keeps a thin bezel (a phone held close) at ~1.5 px where 20 px
 * blurred it into the screen; the region is ~175x150, about 2x the cost of 20 px.
 */
const FACE_PX = 32;
/** Search window: face centre +- REACH face widths (bezels sit 0.5-2 face widths beyond the face). */
const REACH = 2.7;
/**
 * Lines closer to the face centre than this (face widths) are the face's own outline. A phone held
 * close puts its screen edge ~0.6 face widths out, so the cut sits just inside that.
 */
const INNER = 0.5;
/** Rows checked, in face heights relative to the box: head top, face, below the chin. */
const STRETCHES: [number, number][] = [[-0.45, 0.05], [0.05, 0.95], [1.0, 1.6]];
const TILTS = [-15, -12.5, -10, -7.5, -5, -2.5, 0, 2.5, 5, 7.5, 10, 12.5, 15].map((d) => Math.tan((d * Math.PI) / 180));
/** Largest tilt difference (steps of 2.5 degrees) still counted as a parallel pair: one rigid device. */
const PARALLEL_STEPS = 3;
/** Sobel magnitude (on 0-255 grey, /4 normalised) below which a pixel is not an edge. */
const EDGE_MIN = 10;
/** Shortest run of consecutive rows (face widths) that counts as line support, and the largest gap bridged in a run. */
const MIN_RUN_FW = 0.2;
const GAP_FW = 0.1;
/**
 * Weight of each stretch (head top, face, below the chin) in a line's support. Below the chin is
 * where a device and a background differ most: the bezel runs on past the chin, a door frame or
 * window edge behind a person is cut by the shoulders. It also keeps a phone whose upper edge is
 * hidden by fingers in the running.
 */
const WEIGHTS: [number, number, number] = [1, 1, 2];

/** Tuning knobs (defaults are the shipped cue); exposed for measurement scripts and tests. */
export interface BorderOptions {
  facePx?: number;
  inner?: number;
  /** Weight of each stretch (head top, face, below the chin) in a line's support. */
  weights?: [number, number, number];
  /** Pair only edges of opposite polarity (the enclosed region brighter or darker than both outsides). */
  mirrored?: boolean;
}
const DEFAULTS: Required<BorderOptions> = { facePx: FACE_PX, inner: INNER, weights: WEIGHTS, mirrored: true };

export interface BorderDetail {
  score: number;
  left: number;
  right: number;
}

interface Region {
  w: number;
  h: number;
  px: Float32Array;
  /** 1 where the resampled pixel lies inside the frame. */
  valid: Uint8Array;
  /** Source pixels per region pixel, and the region's origin in the source. */
  step: number;
  x0: number;
  y0: number;
}

function resample(grey: GreyImage, box: Box, facePx: number): Region {
  const fw = box[2] - box[0];
  const step = Math.max(fw / facePx, 0.5);
  const cx = (box[0] + box[2]) / 2;
  const fh = box[3] - box[1];
  const x0 = cx - REACH * fw;
  const y0 = box[1] + STRETCHES[0][0] * fh - 2 * step;
  const w = Math.ceil((2 * REACH * fw) / step);
  const h = Math.ceil(((STRETCHES[2][1] - STRETCHES[0][0]) * fh) / step) + 4;
  const px = new Float32Array(w * h);
  const valid = new Uint8Array(w * h);
  const { width: W, height: H, data } = grey;
  // Four point samples per cell: a cheap box filter that keeps JPEG noise from becoming edges.
  const q = step / 4;
  for (let j = 0; j < h; j++) {
    const sy = y0 + (j + 0.5) * step;
    const ya = Math.round(sy - q), yb = Math.round(sy + q);
    if (ya < 0 || yb >= H) continue;
    for (let i = 0; i < w; i++) {
      const sx = x0 + (i + 0.5) * step;
      const xa = Math.round(sx - q), xb = Math.round(sx + q);
      if (xa < 0 || xb >= W) continue;
      const k = j * w + i;
      px[k] = (data[ya * W + xa] + data[ya * W + xb] + data[yb * W + xa] + data[yb * W + xb]) * 0.25;
      valid[k] = 1;
    }
  }
  return { w, h, px, valid, step, x0, y0 };
}

/** Per-frame score in [0,1] (1 = a straight-edged frame surrounds the face), with the side supports. */
export function screenBorderDetail(grey: GreyImage, box: Box, options: BorderOptions = {}): BorderDetail {
  const o = { ...DEFAULTS, ...options };
  const fw = box[2] - box[0], fh = box[3] - box[1];
  if (!(fw > 4 && fh > 4)) return { score: 0, left: 0, right: 0 };
  const r = resample(grey, box, o.facePx);
  const minRun = Math.max(4, Math.round(MIN_RUN_FW * o.facePx));
  const gap = Math.max(2, Math.round(GAP_FW * o.facePx));
  const { w, h, px, valid, step } = r;
  const nt = TILTS.length;
  // Region coordinates of the face centre column/row and of each stretch.
  const cxr = ((box[0] + box[2]) / 2 - r.x0) / step - 0.5;
  const yRef = ((box[1] + box[3]) / 2 - r.y0) / step - 0.5;
  const rowOf = (f: number) => (box[1] + f * fh - r.y0) / step - 0.5;
  const stretchOfRow = new Int8Array(h).fill(-1);
  const stretchRows = [0, 0, 0];
  for (let s = 0; s < 3; s++) {
    const a = Math.max(1, Math.ceil(rowOf(STRETCHES[s][0]))), b = Math.min(h - 2, Math.floor(rowOf(STRETCHES[s][1])));
    for (let y = a; y <= b; y++) stretchOfRow[y] = s;
  }
  // Votes[pol][tilt][x][stretch], and the last row that voted per bin so a row counts once.
  const bins = 2 * nt * w;
  const votes = new Uint16Array(bins * 3);
  const last = new Int16Array(bins).fill(-1);
  const run = new Uint16Array(bins);
  for (let y = 1; y < h - 1; y++) {
    const s = stretchOfRow[y];
    if (s < 0) continue;
    let rowValid = false;
    for (let x = 1; x < w - 1; x++) {
      const k = y * w + x;
      if (!(valid[k - w - 1] & valid[k + w + 1] & valid[k - w + 1] & valid[k + w - 1])) continue;
      rowValid = true;
      const gx = (px[k - w + 1] + 2 * px[k + 1] + px[k + w + 1] - px[k - w - 1] - 2 * px[k - 1] - px[k + w - 1]) * 0.25;
      const ax = gx < 0 ? -gx : gx;
      if (ax < EDGE_MIN) continue;
      // Thin edges to one pixel (local maximum of |gx| along the row): a textured wall then no
      // longer lines up by chance with every tilt.
      const axl = Math.abs(px[k - w] + 2 * px[k] + px[k + w] - px[k - w - 2] - 2 * px[k - 2] - px[k + w - 2]) * 0.25;
      const axr = Math.abs(px[k - w + 2] + 2 * px[k + 2] + px[k + w + 2] - px[k - w] - 2 * px[k] - px[k + w]) * 0.25;
      if (x > 1 && x < w - 2 && (axl > ax || axr >= ax)) continue;
      const gy = (px[k + w - 1] + 2 * px[k + w] + px[k + w + 1] - px[k - w - 1] - 2 * px[k - w] - px[k - w + 1]) * 0.25;
      // Near-vertical edge: gradient within ~27 degrees of horizontal (15 degrees tilt plus slack).
      if ((gy < 0 ? -gy : gy) > 0.5 * ax) continue;
      const pol = gx > 0 ? 1 : 0;
      for (let t = 0; t < nt; t++) {
        const xr = Math.round(x - TILTS[t] * (y - yRef));
        for (let xx = xr - 1; xx <= xr + 1; xx++) {
          if (xx < 0 || xx >= w) continue;
          const bin = (pol * nt + t) * w + xx;
          const prev = last[bin];
          if (prev === y) continue;
          // Only rows in a run of minRun (short gaps bridged) count: chance alignments of
          // texture pixels are short, a bezel edge is long.
          run[bin] = prev >= y - gap && prev >= 0 ? run[bin] + 1 : 1;
          last[bin] = y;
          if (run[bin] === minRun) votes[bin * 3 + s] += minRun;
          else if (run[bin] > minRun) votes[bin * 3 + s]++;
        }
      }
    }
    if (rowValid) stretchRows[s]++;
  }
  // Best support per side and tilt.
  // best[side][pol * nt + tilt]
  const best = [new Float32Array(2 * nt), new Float32Array(2 * nt)];
  const inner = (o.inner * fw) / step;
  const wt = o.weights;
  for (let pol = 0; pol < 2; pol++) {
    for (let t = 0; t < nt; t++) {
      for (let x = 0; x < w; x++) {
        const d = x - cxr;
        const side = d < -inner ? 0 : d > inner ? 1 : -1;
        if (side < 0) continue;
        const bin = ((pol * nt + t) * w + x) * 3;
        let sum = 0, n = 0, wsum = 0;
        for (let s = 0; s < 3; s++) {
          if (stretchRows[s] < 2) continue; // stretch outside the frame: no evidence either way
          sum += wt[s] * Math.min(1, votes[bin + s] / stretchRows[s]);
          wsum += wt[s];
          n++;
        }
        const sup = n >= 2 ? sum / wsum : 0;
        const k = pol * nt + t;
        if (sup > best[side][k]) best[side][k] = sup;
      }
    }
  }
  let score = 0, left = 0, right = 0;
  for (let pa = 0; pa < 2; pa++) {
    for (let a = 0; a < nt; a++) {
      left = Math.max(left, best[0][pa * nt + a]);
      right = Math.max(right, best[1][pa * nt + a]);
      for (let pb = 0; pb < 2; pb++) {
        if (o.mirrored && pa === pb) continue;
        for (let b = Math.max(0, a - PARALLEL_STEPS); b <= Math.min(nt - 1, a + PARALLEL_STEPS); b++) {
          score = Math.max(score, Math.min(best[0][pa * nt + a], best[1][pb * nt + b]));
        }
      }
    }
  }
  return { score, left, right };
}

export function screenBorderScore(grey: GreyImage, box: Box): number {
  return screenBorderDetail(grey, box).score;
}

class BorderTracker implements CueTracker {
  private scores: number[] = [];
  observe(o: PadObservation): void {
    this.scores.push(screenBorderScore(o.grey, o.box));
  }
  feature(): number | undefined {
    return robustTrackStat(this.scores);
  }
}

export const screenBorderCue: Cue = {
  name: 'screen_border',
  create: () => new BorderTracker(),
};
