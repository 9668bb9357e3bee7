/**
 * In-place radix-2 FFT and a 2-D power spectrum for small square patches (the screen-artefact
 * cue's 64x64 face crop). Twiddles are cached per size: the cue runs every frame.
 */
const twiddles = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

function plan(n: number) {
  let p = twiddles.get(n);
  if (p) return p;
  if (n < 2 || (n & (n - 1)) !== 0) throw new Error(`FFT size must be a power of two, got ${n}`);
  const cos = new Float64Array(n / 2), sin = new Float64Array(n / 2), rev = new Uint32Array(n);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = -Math.sin((2 * Math.PI * i) / n);
  }
  const bits = Math.log2(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  p = { cos, sin, rev };
  twiddles.set(n, p);
  return p;
}

/** Forward FFT of n complex values at re/im[off + k*stride]. */
export function fft(re: Float64Array, im: Float64Array, n: number, off = 0, stride = 1): void {
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      const a = off + i * stride, b = off + j * stride;
      let t = re[a]; re[a] = re[b]; re[b] = t;
      t = im[a]; im[a] = im[b]; im[b] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1, step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step], wi = sin[k * step];
        const a = off + (start + k) * stride, b = off + (start + k + half) * stride;
        const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

/** |F(u,v)|^2 of an n x n real patch (row-major), DC at [0]. */
export function powerSpectrum2(patch: Float64Array, n: number): Float64Array {
  const re = Float64Array.from(patch), im = new Float64Array(n * n);
  for (let y = 0; y < n; y++) fft(re, im, n, y * n, 1);
  for (let x = 0; x < n; x++) fft(re, im, n, x, n);
  const p = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) p[i] = re[i] * re[i] + im[i] * im[i];
  return p;
}
