/**
 * 68-point landmarks: the detector box is cropped, resized to 64x64 grey scaled by 1/256, and
 * the model returns 136 coordinates normalised to the crop.
 */
import type { Box, Point } from './geometry.ts';
import type { RgbImage } from './image.ts';
import type { ModelSession } from './session.ts';
import { rectToAffine, sampleToTensor, type TensorSpec } from './warp.ts';

export const LANDMARK_SPEC: TensorSpec = { width: 64, height: 64, mode: 'grey', mean: 0, scale: 1 / 256 };
export const LANDMARK_DIMS = [1, 1, 64, 64] as const;

export async function predictLandmarks(
  session: ModelSession,
  img: RgbImage,
  box: Box,
  buf: Float32Array,
  onInput?: (data: Float32Array, dims: readonly number[]) => void,
): Promise<Point[]> {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  sampleToTensor(img, rectToAffine(box[0], box[1], w, h, 64, 64), LANDMARK_SPEC, buf);
  onInput?.(buf, LANDMARK_DIMS);
  const out = await session.run(buf, LANDMARK_DIMS);
  const v = out.output.data as Float32Array;
  const pts: Point[] = new Array(68);
  for (let i = 0; i < 68; i++) pts[i] = [box[0] + v[2 * i] * w, box[1] + v[2 * i + 1] * h];
  return pts;
}
