/**
 * UltraFace-style detector: the whole frame is resized to 320x240, normalised (x-127)/128, and
 * the model returns 4420 anchors with [background, face] scores and corner boxes already decoded
 * and normalised to 0..1.
 */
import { nms, type Box, type ScoredBox } from './geometry.ts';
import type { RgbImage } from './image.ts';
import type { ModelSession } from './session.ts';
import { resizeToTensor, type TensorSpec } from './warp.ts';

export const DETECT_SPEC: TensorSpec = { width: 320, height: 240, mode: 'rgb', mean: 127, scale: 1 / 128 };
export const DETECT_DIMS = [1, 3, 240, 320] as const;

export interface DetectOptions {
  scoreThreshold: number;
  nmsIou: number;
  maxFaces: number;
}

/** Turn raw model outputs into face boxes in source pixels (pure, unit-tested). */
export function decodeDetections(
  scores: Float32Array,
  boxes: Float32Array,
  width: number,
  height: number,
  opts: DetectOptions,
): ScoredBox[] {
  const n = scores.length / 2;
  const candidates: ScoredBox[] = [];
  for (let i = 0; i < n; i++) {
    const s = scores[2 * i + 1];
    if (s < opts.scoreThreshold) continue;
    const b: Box = [
      Math.max(0, boxes[4 * i] * width),
      Math.max(0, boxes[4 * i + 1] * height),
      Math.min(width, boxes[4 * i + 2] * width),
      Math.min(height, boxes[4 * i + 3] * height),
    ];
    if (b[2] - b[0] < 2 || b[3] - b[1] < 2) continue;
    candidates.push({ box: b, score: s });
  }
  return nms(candidates, opts.nmsIou, opts.maxFaces);
}

export async function detectFaces(
  session: ModelSession,
  img: RgbImage,
  opts: DetectOptions,
  buf: Float32Array,
  onInput?: (data: Float32Array, dims: readonly number[]) => void,
): Promise<ScoredBox[]> {
  resizeToTensor(img, DETECT_SPEC, buf);
  onInput?.(buf, DETECT_DIMS);
  const out = await session.run(buf, DETECT_DIMS);
  return decodeDetections(out.scores.data as Float32Array, out.boxes.data as Float32Array, img.width, img.height, opts);
}
