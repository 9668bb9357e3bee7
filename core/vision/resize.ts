/**
 * Whole-frame resize into the detector's input tensor (320x240x3 floats, the largest tensor the
 * pipeline fills per frame) in WebAssembly SIMD (resize.wat): one 4-byte load per source tap
 * carries a pixel's three channels. The plain JS resize in warp.ts stays as the reference and
 * the fallback where WebAssembly SIMD is missing. Into 320x240: 0.55 ms against the JS loop's
 * 1.1 ms from a 250x250 image, 0.46 against 1.6 ms from 640x480 (2x box filter), 0.64 against
 * 3.4 ms from 1001x677 (the `detect` stage of `npm run bench` includes it).
 */
import type { RgbImage } from './image.ts';
import { resizeWasmBase64 } from './resize-wasm.ts';
import type { TensorSpec } from './warp.ts';

const PAGE = 65536;

interface ResizeExports {
  memory: WebAssembly.Memory;
  bilinear(src: number, W: number, H: number, cols: number, rows: number, pr: number, pg: number, pb: number, k: number, c: number): void;
  box(src: number, stride: number, W: number, H: number, cols: number, rows: number, pr: number, pg: number, pb: number, scale: number, c: number): void;
}

let kernel: ResizeExports | null | undefined;

/** The instantiated kernel, or null where WebAssembly SIMD is unavailable (then callers use JS). */
export function resizeKernel(): ResizeExports | null {
  if (kernel === undefined) {
    try {
      const mod = new WebAssembly.Module(Buffer.from(resizeWasmBase64, 'base64'));
      kernel = new WebAssembly.Instance(mod).exports as unknown as ResizeExports;
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

/** Bilinear taps, the same arithmetic as warp.ts: pixel centres, edges replicated. */
function bilinearTaps(src: number, dst: number, stride: number, view: DataView, at: number): void {
  const s = src / dst;
  for (let i = 0; i < dst; i++, at += 12) {
    const f = Math.min(src - 1, Math.max(0, (i + 0.5) * s - 0.5));
    const i0 = Math.floor(f);
    view.setInt32(at, i0 * stride, true);
    view.setInt32(at + 4, Math.min(src - 1, i0 + 1) * stride, true);
    view.setFloat32(at + 8, f - i0, true);
  }
}

/** Box footprints, the same as warp.ts: [floor(i*f), max(first+1, min(src, floor((i+1)*f)))). */
function boxTaps(src: number, dst: number, stride: number, view: DataView, at: number): void {
  const f = src / dst;
  for (let i = 0; i < dst; i++, at += 8) {
    const a = Math.floor(i * f);
    const b = Math.max(a + 1, Math.min(src, Math.floor((i + 1) * f)));
    view.setInt32(at, a * stride, true);
    view.setInt32(at + 4, b - a, true);
  }
}

/**
 * Resize `img` to `spec` (RGB or BGR planes) with the kernel; a box filter when shrinking by more
 * than 1.5x (so small faces in big frames do not alias away), bilinear otherwise. Returns false
 * when the kernel cannot do it (no SIMD, grey output), leaving `out` untouched.
 */
export function resizeWithKernel(img: RgbImage, spec: TensorSpec, out: Float32Array): boolean {
  const k = spec.mode === 'grey' ? null : resizeKernel();
  if (!k) return false;
  const { width: W, height: H } = spec;
  const iw = img.width;
  const ih = img.height;
  const box = iw / W > 1.5 || ih / H > 1.5;
  const tap = box ? 8 : 12;
  const cols = 0;
  const rows = cols + W * tap;
  const src = rows + H * tap;
  // The kernel reads 4 bytes per pixel: pad past the last one. Planes start 16-byte aligned.
  const dst = Math.ceil((src + iw * ih * 3 + 4) / 16) * 16;
  const planeBytes = W * H * 4;
  const need = dst + 3 * planeBytes;
  const mem = k.memory;
  if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / PAGE));
  const view = new DataView(mem.buffer);
  const rowStride = iw * 3;
  if (box) {
    boxTaps(iw, W, 3, view, cols);
    boxTaps(ih, H, rowStride, view, rows);
  } else {
    bilinearTaps(iw, W, 3, view, cols);
    bilinearTaps(ih, H, rowStride, view, rows);
  }
  new Uint8Array(mem.buffer, src, iw * ih * 3).set(img.data.subarray(0, iw * ih * 3));
  const [pr, pb] = spec.mode === 'bgr' ? [dst + 2 * planeBytes, dst] : [dst, dst + 2 * planeBytes];
  const c = -spec.mean * spec.scale;
  if (box) k.box(src, rowStride, W, H, cols, rows, pr, dst + planeBytes, pb, spec.scale, c);
  else k.bilinear(src, W, H, cols, rows, pr, dst + planeBytes, pb, spec.scale, c);
  out.set(new Float32Array(mem.buffer, dst, 3 * W * H));
  return true;
}
