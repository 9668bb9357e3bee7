/**
 * `screen_artifacts` cue: traces a display leaves in the captured face.
 *
 * - Moiré: the screen's pixel grid beats against the camera's sensor grid and leaves narrow,
 *   periodic peaks in the spectrum of the face. A 64x64 crop at native resolution (resampling
 *   would blur exactly these frequencies) is windowed and transformed; each mid/high frequency bin
 *   is compared with the median of its ring (natural images fall off smoothly with radius, so the
 *   ring median is the local baseline). The largest ratio is the peak strength. Bins on the
 *   8-pixel grid lines (u or v a multiple of 8) are skipped: JPEG block edges put peaks there in
 *   every compressed frame, live or not.
 * - Colour: a face shown on a display is re-lit by the panel's backlight, which is bluer than
 *   skin under room light, and a glossy screen clips highlights. Blue shift = mean B / mean R
 *   on the central face; clipping = share of face pixels with a channel at 250 or more.
 *
 * Components are mapped to [0,1] with fixed anchors chosen from how the statistics behave on
 * natural images (see the comments at each constant), not fitted to the development clips.
 */
import type { Box } from '../geometry.ts';
import type { RgbImage } from '../image.ts';
import { powerSpectrum2 } from './fft2.ts';
import { robustTrackStat } from './track-stat.ts';
import type { Cue, CueTracker, GreyImage, PadObservation } from './types.ts';

const N = 64;
/** Ring radii examined (cycles per 64 px): below 6 is face shape, not texture. */
const R_MIN = 6, R_MAX = 31;
/**
 * Peak-to-ring-median ratio anchors. A periodogram bin of noise-like texture is ~exponential, so
 * the largest of the ~1500 bins examined is about ln(1500)/ln(2) ~ 10x the median; 20 leaves room
 * for face structure. 400 is a clear isolated line.
 */
const PEAK_LO = Math.log(20), PEAK_HI = Math.log(400);
/** Blue/red anchors: skin under room light is B/R ~0.6-0.85; a backlit screen pushes it toward 1+. */
const BLUE_LO = 0.9, BLUE_HI = 1.2;
/**
 * Clipped share anchors: a lit face under auto-exposure keeps its highlights (no live clip or
 * photo in ../shared clips even 1% of the central face); a glossy screen's glare or an
 * over-bright panel clips whole patches. 20% of the face clipped counts as certain.
 */
const CLIP_LO = 0.01, CLIP_HI = 0.2;

const ramp = (v: number, lo: number, hi: number) => (v <= lo ? 0 : v >= hi ? 1 : (v - lo) / (hi - lo));

const hann = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / N));
/** Bins by ring, and for each bin the bins RADIAL_GAP further in and out along its direction. */
const RADIAL_GAP = 3;
const { binsByRing, inner, outer } = (() => {
  const rings: number[][] = Array.from({ length: R_MAX + 1 }, () => []);
  const inn = new Int32Array(N * N), out = new Int32Array(N * N);
  const idx = (u: number, v: number) => {
    const x = Math.round(u), y = Math.round(v);
    // Reflect into the stored half-plane (|F(u,v)| = |F(-u,-v)| for a real patch).
    const [xx, yy] = y < 0 ? [-x, -y] : [x, y];
    return ((yy + N) % N) * N + ((xx + N) % N);
  };
  for (let y = 0; y < N; y++) {
    const v = y < N / 2 ? y : y - N;
    // One half-plane: the spectrum of a real patch is symmetric.
    if (v < 0) continue;
    for (let x = 0; x < N; x++) {
      const u = x < N / 2 ? x : x - N;
      if (u % 8 === 0 || v % 8 === 0) continue;
      const rf = Math.hypot(u, v), r = Math.round(rf);
      if (r < R_MIN || r > R_MAX) continue;
      rings[r].push(y * N + x);
      inn[y * N + x] = idx((u * (rf - RADIAL_GAP)) / rf, (v * (rf - RADIAL_GAP)) / rf);
      out[y * N + x] = idx((u * Math.min(rf + RADIAL_GAP, N / 2 - 1)) / rf, (v * Math.min(rf + RADIAL_GAP, N / 2 - 1)) / rf);
    }
  }
  return { binsByRing: rings, inner: inn, outer: out };
})();

/** Largest ratio of a spectral bin to its ring's median, as log; NaN when the crop does not fit. */
export function moirePeak(grey: GreyImage, box: Box): number {
  const cx = Math.round((box[0] + box[2]) / 2 - N / 2);
  const cy = Math.round(box[1] + 0.55 * (box[3] - box[1]) - N / 2);
  const x0 = Math.max(0, Math.min(grey.width - N, cx)), y0 = Math.max(0, Math.min(grey.height - N, cy));
  if (grey.width < N || grey.height < N) return NaN;
  const patch = new Float64Array(N * N);
  let mean = 0;
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) mean += grey.data[(y0 + y) * grey.width + x0 + x];
  mean /= N * N;
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) patch[y * N + x] = (grey.data[(y0 + y) * grey.width + x0 + x] - mean) * hann[x] * hann[y];
  }
  const p = powerSpectrum2(patch, N);
  let best = 0;
  const vals: number[] = [];
  for (let r = R_MIN; r <= R_MAX; r++) {
    const ring = binsByRing[r];
    vals.length = 0;
    for (const i of ring) vals.push(p[i]);
    vals.sort((a, b) => a - b);
    const med = vals[vals.length >> 1] + 1e-9;
    // Baseline: the ring median, or the same direction a little further in and out, whichever is
    // larger. An edge (glasses, hairline) spreads power along a radial line, so its neighbours in
    // and out are almost as strong; a moiré line is an isolated spot.
    for (const i of ring) {
      const ratio = p[i] / Math.max(med, p[inner[i]], p[outer[i]]);
      if (ratio > best) best = ratio;
    }
  }
  return Math.log(best);
}

export interface ArtifactsDetail {
  score: number;
  /** log peak-to-ring-median ratio. */
  moire: number;
  blueRatio: number;
  clipped: number;
}

/** Colour statistics over the central face (inner 60% of the box: no hair, no background). */
function faceColour(img: RgbImage, box: Box): { blueRatio: number; clipped: number } {
  const w = box[2] - box[0], h = box[3] - box[1];
  const xa = Math.max(0, Math.round(box[0] + 0.2 * w)), xb = Math.min(img.width, Math.round(box[2] - 0.2 * w));
  const ya = Math.max(0, Math.round(box[1] + 0.2 * h)), yb = Math.min(img.height, Math.round(box[3] - 0.2 * h));
  // Every other pixel is plenty for means and keeps the cost flat for big faces.
  const stride = Math.max(1, Math.floor((xb - xa) / 40));
  let sr = 0, sb = 0, clip = 0, n = 0;
  for (let y = ya; y < yb; y += stride) {
    for (let x = xa; x < xb; x += stride) {
      const i = (y * img.width + x) * 3;
      const r = img.data[i], g = img.data[i + 1], b = img.data[i + 2];
      sr += r; sb += b; n++;
      if (r >= 250 || g >= 250 || b >= 250) clip++;
    }
  }
  return n ? { blueRatio: sb / (sr + 1), clipped: clip / n } : { blueRatio: NaN, clipped: NaN };
}

export function screenArtifactsDetail(img: RgbImage, grey: GreyImage, box: Box): ArtifactsDetail {
  const moire = moirePeak(grey, box);
  const { blueRatio, clipped } = faceColour(img, box);
  const parts = [ramp(moire, PEAK_LO, PEAK_HI), ramp(blueRatio, BLUE_LO, BLUE_HI), ramp(clipped, CLIP_LO, CLIP_HI)].filter((v) => Number.isFinite(v));
  // Any one signature is evidence of a display: a noisy-OR, not an average that dilutes it.
  const score = parts.length ? 1 - parts.reduce((q, v) => q * (1 - v), 1) : 0;
  return { score, moire, blueRatio, clipped };
}

class ArtifactsTracker implements CueTracker {
  private scores: number[] = [];
  observe(o: PadObservation): void {
    this.scores.push(screenArtifactsDetail(o.img, o.grey, o.box).score);
  }
  feature(): number | undefined {
    return robustTrackStat(this.scores);
  }
}

export const screenArtifactsCue: Cue = {
  name: 'screen_artifacts',
  create: () => new ArtifactsTracker(),
};
