/** Symmetric per-vector int8 quantization: q = round(v / scale), scale = max|v| / 127. */

/** L2-normalise `src` into `dst`; throws on a wrong length, non-finite values or a zero vector. */
export function normalizeInto(src: ArrayLike<number>, dst: Float32Array): void {
  if (src.length !== dst.length) throw new Error(`embedding has length ${src.length}, gallery expects ${dst.length}`);
  let ss = 0;
  for (let i = 0; i < src.length; i++) ss += src[i] * src[i];
  if (!Number.isFinite(ss) || ss === 0) throw new Error('embedding is zero or not finite');
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < src.length; i++) dst[i] = src[i] * inv;
}

/** Quantize `v` into `dst` (int8 or int16 storage, values within +-127); returns the scale. */
export function quantizeInto(v: Float32Array, dst: Int8Array | Int16Array, offset = 0): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > max) max = a;
  }
  const scale = max / 127;
  const inv = scale > 0 ? 1 / scale : 0;
  for (let i = 0; i < v.length; i++) dst[offset + i] = Math.round(v[i] * inv);
  return scale;
}

export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
  return s;
}
