/**
 * ArcFace-style embedding: 5 points -> similarity transform onto the 112x112 template ->
 * (x-127)/128 RGB -> 512-d vector, L2-normalised so a dot product is the cosine similarity.
 */
import { ARCFACE_TEMPLATE, estimateSimilarity, type Point } from './geometry.ts';
import type { RgbImage } from './image.ts';
import type { ModelSession } from './session.ts';
import { invertAffine, sampleToTensor, type Affine, type TensorSpec } from './warp.ts';

export const FEATURE_SPEC: TensorSpec = { width: 112, height: 112, mode: 'rgb', mean: 127, scale: 1 / 128 };
export const FEATURE_DIMS = [1, 3, 112, 112] as const;
export const EMBEDDING_SIZE = 512;

/** Warp the face into the aligned 112x112 tensor; returns the template-from-image transform. */
export function alignFace(img: RgbImage, points5: Point[], buf: Float32Array): Affine {
  const m = estimateSimilarity(points5, ARCFACE_TEMPLATE);
  sampleToTensor(img, invertAffine(m), FEATURE_SPEC, buf);
  return m;
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/** Cosine similarity of two L2-normalised embeddings. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`embedding sizes differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export async function embedAligned(
  session: ModelSession,
  aligned: Float32Array,
  onInput?: (data: Float32Array, dims: readonly number[]) => void,
): Promise<Float32Array> {
  onInput?.(aligned, FEATURE_DIMS);
  const out = await session.run(aligned, FEATURE_DIMS);
  return l2normalize(out.output.data as Float32Array);
}
