/**
 * Passive liveness (single frame): a context crop of `cropScale` x the face box, kept inside the
 * frame, resized to 128x128, raw 0..255 values. Three classes; which one is "live" and the
 * channel order are settings because the model ships without documentation (measured defaults:
 * see `npm run eval -- --spoof`).
 */
import type { Box } from './geometry.ts';
import type { RgbImage } from './image.ts';
import type { ModelSession } from './session.ts';
import { rectToAffine, sampleToTensor, type ChannelMode } from './warp.ts';

export const LIVENESS_DIMS = [1, 3, 128, 128] as const;

/** The crop rectangle: box scaled about its centre, clamped to fit and shifted inside the frame. */
export function livenessCrop(box: Box, width: number, height: number, cropScale: number): [number, number, number, number] {
  const bw = Math.max(1, box[2] - box[0]);
  const bh = Math.max(1, box[3] - box[1]);
  const s = Math.min((height - 1) / bh, (width - 1) / bw, cropScale);
  const nw = bw * s;
  const nh = bh * s;
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  let x = cx - nw / 2;
  let y = cy - nh / 2;
  x = Math.min(Math.max(0, x), width - 1 - nw);
  y = Math.min(Math.max(0, y), height - 1 - nh);
  return [Math.max(0, x), Math.max(0, y), nw, nh];
}

export function softmax(v: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]);
  const e = Array.from(v, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

export interface LivenessOptions {
  cropScale: number;
  channelOrder: 'rgb' | 'bgr';
  liveClass: number;
}

/** Returns the live-class probability and all class probabilities. */
export async function predictLiveness(
  session: ModelSession,
  img: RgbImage,
  box: Box,
  opts: LivenessOptions,
  buf: Float32Array,
  onInput?: (data: Float32Array, dims: readonly number[]) => void,
): Promise<{ score: number; probs: number[] }> {
  const [x, y, w, h] = livenessCrop(box, img.width, img.height, opts.cropScale);
  const mode: ChannelMode = opts.channelOrder;
  sampleToTensor(img, rectToAffine(x, y, w, h, 128, 128), { width: 128, height: 128, mode, mean: 0, scale: 1 }, buf);
  onInput?.(buf, LIVENESS_DIMS);
  const out = await session.run(buf, LIVENESS_DIMS);
  const probs = softmax(out.output.data as Float32Array);
  return { score: probs[opts.liveClass] ?? 0, probs };
}
