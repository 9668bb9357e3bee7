/**
 * Quality gates. Every rejected face says why, so the door can tell the person what to fix
 * ("come closer", "look at the camera") and the audit log shows it.
 */
import type { Box, HeadPose, Point } from './geometry.ts';
import type { RgbImage } from './image.ts';
import { softmax } from './liveness.ts';
import type { ModelSession } from './session.ts';
import { rectToAffine, sampleToTensor, type TensorSpec } from './warp.ts';

export type QualityReason = 'too_small' | 'blurry' | 'too_dark' | 'too_bright' | 'pose' | 'multiple_faces';

export interface QualityGates {
  minFaceSize: number;
  maxYaw: number;
  maxPitch: number;
  minSharpness: number;
  minBrightness: number;
  maxBrightness: number;
}

export interface QualityMeasures {
  size: number;
  sharpness: number;
  brightness: number;
  pose: HeadPose;
}

/**
 * Mean grey level and variance of the 4-neighbour Laplacian over the central part of the
 * aligned face tensor (CHW, (x-127)/128), where background does not count.
 */
export function sharpnessAndBrightness(aligned: Float32Array, size = 112): { sharpness: number; brightness: number } {
  const plane = size * size;
  const grey = new Float32Array(plane);
  let sum = 0;
  for (let i = 0; i < plane; i++) {
    const v = (0.299 * aligned[i] + 0.587 * aligned[plane + i] + 0.114 * aligned[2 * plane + i]) * 128 + 127;
    grey[i] = v;
  }
  const lo = Math.round(size * 0.2);
  const hi = Math.round(size * 0.85);
  let n = 0, s = 0, s2 = 0;
  for (let y = lo; y < hi; y++) {
    for (let x = lo; x < hi; x++) {
      const i = y * size + x;
      sum += grey[i];
      const lap = grey[i - 1] + grey[i + 1] + grey[i - size] + grey[i + size] - 4 * grey[i];
      s += lap;
      s2 += lap * lap;
      n++;
    }
  }
  const m = s / n;
  return { sharpness: s2 / n - m * m, brightness: sum / n };
}

export function qualityReasons(q: QualityMeasures, gates: QualityGates): QualityReason[] {
  const reasons: QualityReason[] = [];
  if (q.size < gates.minFaceSize) reasons.push('too_small');
  if (q.sharpness < gates.minSharpness) reasons.push('blurry');
  if (q.brightness < gates.minBrightness) reasons.push('too_dark');
  if (q.brightness > gates.maxBrightness) reasons.push('too_bright');
  if (Math.abs(q.pose.yaw) > gates.maxYaw || Math.abs(q.pose.pitch) > gates.maxPitch) reasons.push('pose');
  return reasons;
}

export const faceSize = (b: Box): number => Math.min(b[2] - b[0], b[3] - b[1]);

const EYE_SPEC: TensorSpec = { width: 24, height: 24, mode: 'grey', mean: 0, scale: 1 / 255 };
const EYE_DIMS = [1, 1, 24, 24] as const;
/** Output index of the "open" class of the eye model (measured on frontal LFW faces). */
export const EYE_OPEN_CLASS = 1;

/** Probability that each eye (left, right in the image) is open, from square crops around the 68 points. */
export async function eyeOpenness(session: ModelSession, img: RgbImage, p68: Point[], buf: Float32Array): Promise<[number, number]> {
  const res: number[] = [];
  for (const [corner0, corner1, ring] of [
    [36, 39, [37, 38, 40, 41]],
    [42, 45, [43, 44, 46, 47]],
  ] as const) {
    const cx = ring.reduce((s, k) => s + p68[k][0], 0) / 4;
    const cy = ring.reduce((s, k) => s + p68[k][1], 0) / 4;
    const side = Math.max(4, Math.hypot(p68[corner1][0] - p68[corner0][0], p68[corner1][1] - p68[corner0][1]) * 1.6);
    sampleToTensor(img, rectToAffine(cx - side / 2, cy - side / 2, side, side, 24, 24), EYE_SPEC, buf);
    const out = await session.run(buf, EYE_DIMS);
    res.push(softmax(out.output.data as Float32Array)[EYE_OPEN_CLASS]);
  }
  return [res[0], res[1]];
}
