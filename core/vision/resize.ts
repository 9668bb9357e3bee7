/**
 * The pipeline's pixel work in WebAssembly SIMD (resize.wat): the whole-frame resize into the
 * detector's input (320x240x3 floats, the largest tensor per frame) and the axis-aligned crops
 * after it (liveness context 128x128, landmark box 64x64). One 4-byte load per source tap
 * carries a pixel's three channels. The plain JS loops in warp.ts stay as the reference and the
 * fallback where WebAssembly SIMD is missing.
 *
 * Measured: into 320x240, 0.55 ms against the JS loop's 1.1 ms from a 250x250 image, 0.46
 * against 1.6 ms from 640x480 (2x box filter), 0.64 against 3.4 ms from 1001x677 (the `detect`
 * stage of `npm run bench` includes it); the liveness crop 0.1 ms against 0.35 ms.
 *
 * The frame sits in the kernel's memory above FRAME_AT. VisionEngine.analyze() copies it there
 * once (bindFrame) and every crop of that call reads it; a crop of a frame that is not bound
 * runs in JS, and a resize of one copies it for that call only, so a caller that rewrites a
 * frame buffer in place never reads a stale copy.
 */
import type { RgbImage } from './image.ts';
import { resizeWasmBase64 } from './resize-wasm.ts';
import type { Affine, TensorSpec } from './warp.ts';

const PAGE = 65536;
/** Output tensor and tap tables below this offset, the frame from it. */
const FRAME_AT = 1 << 20;
/** Where the tap tables start (after the largest output, 3 x 320 x 240 floats). */
const TAPS_AT = 3 * 320 * 240 * 4;

interface ResizeExports {
  memory: WebAssembly.Memory;
  bilinear(src: number, W: number, H: number, cols: number, rows: number, pr: number, pg: number, pb: number, k: number, c: number): void;
  box(src: number, stride: number, W: number, H: number, cols: number, rows: number, pr: number, pg: number, pb: number, scale: number, c: number): void;
  crop(src: number, W: number, H: number, cols: number, rows: number, pr: number, pg: number, pb: number, k: number, c: number, grey: number): void;
}

let kernel: ResizeExports | null | undefined;
/** The frame whose pixels are at FRAME_AT while an analyze() call holds it. */
let bound: { img: RgbImage; data: Uint8Array } | null = null;

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

function ensureBytes(k: ResizeExports, need: number): void {
  const have = k.memory.buffer.byteLength;
  if (have < need) k.memory.grow(Math.ceil((need - have) / PAGE));
}

/** Copy the frame to FRAME_AT, with 4 bytes of padding: the kernel reads 4 bytes per pixel. */
function copyFrame(k: ResizeExports, img: RgbImage): void {
  const n = img.width * img.height * 3;
  ensureBytes(k, FRAME_AT + n + 4);
  new Uint8Array(k.memory.buffer, FRAME_AT, n).set(img.data.subarray(0, n));
}

const isBound = (img: RgbImage) => bound !== null && bound.img === img && bound.data === img.data;

/** Hold `img` in the kernel's memory for the crops that follow; false without the kernel. */
export function bindFrame(img: RgbImage): boolean {
  const k = resizeKernel();
  if (!k) return false;
  copyFrame(k, img);
  bound = { img, data: img.data };
  return true;
}

/** End the binding made for `img` (another call may have bound its own frame since: kept). */
export function releaseFrame(img: RgbImage): void {
  if (bound?.img === img) bound = null;
}

/** Plane pointers (bytes) for the output at 0: R and B swapped for BGR. */
function planes(planeBytes: number, mode: TensorSpec['mode']): [number, number, number] {
  return mode === 'bgr' ? [2 * planeBytes, planeBytes, 0] : [0, planeBytes, 2 * planeBytes];
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
 * Crop taps along one axis, accumulated from `start` by `step` as warp.ts does so the same
 * source pixels are picked: each neighbour's offset and weight, the weight 0 (and the offset
 * clamped) for a neighbour outside the frame, which then reads as black.
 */
function cropTaps(start: number, step: number, n: number, size: number, stride: number, view: DataView, at: number): void {
  let s = start;
  for (let i = 0; i < n; i++, s += step, at += 16) {
    const i0 = Math.floor(s);
    const f = s - i0;
    const inA = i0 >= 0 && i0 < size;
    const inB = i0 + 1 >= 0 && i0 + 1 < size;
    view.setInt32(at, (inA ? i0 : 0) * stride, true);
    view.setInt32(at + 4, (inB ? i0 + 1 : 0) * stride, true);
    view.setFloat32(at + 8, inA ? 1 - f : 0, true);
    view.setFloat32(at + 12, inB ? f : 0, true);
  }
}

/**
 * Resize `img` to `spec` (RGB or BGR planes) with the kernel; a box filter when shrinking by more
 * than 1.5x (so small faces in big frames do not alias away), bilinear otherwise. Returns false
 * when the kernel cannot do it (no SIMD, grey output), leaving `out` untouched.
 */
export function resizeWithKernel(img: RgbImage, spec: TensorSpec, out: Float32Array): boolean {
  const k = spec.mode === 'grey' ? null : resizeKernel();
  const { width: W, height: H } = spec;
  const plane = W * H;
  const box = img.width / W > 1.5 || img.height / H > 1.5;
  const tap = box ? 8 : 12;
  const cols = TAPS_AT;
  const rows = cols + W * tap;
  if (!k || 3 * plane * 4 > TAPS_AT || rows + H * tap > FRAME_AT) return false;
  const transient = !isBound(img);
  if (transient) {
    copyFrame(k, img);
    // Another call's bound frame was just overwritten: its crops fall back to JS.
    bound = null;
  }
  const view = new DataView(k.memory.buffer);
  const rowStride = img.width * 3;
  if (box) {
    boxTaps(img.width, W, 3, view, cols);
    boxTaps(img.height, H, rowStride, view, rows);
  } else {
    bilinearTaps(img.width, W, 3, view, cols);
    bilinearTaps(img.height, H, rowStride, view, rows);
  }
  const [pr, pg, pb] = planes(plane * 4, spec.mode);
  const c = -spec.mean * spec.scale;
  if (box) k.box(FRAME_AT, rowStride, W, H, cols, rows, pr, pg, pb, spec.scale, c);
  else k.bilinear(FRAME_AT, W, H, cols, rows, pr, pg, pb, spec.scale, c);
  out.set(new Float32Array(k.memory.buffer, 0, 3 * plane));
  return true;
}

/**
 * An axis-aligned crop (srcFromDst without rotation or shear) of the bound frame with the kernel;
 * false when `img` is not the bound frame or the map is not axis-aligned (the caller's JS runs).
 */
export function cropWithKernel(img: RgbImage, srcFromDst: Affine, spec: TensorSpec, out: Float32Array): boolean {
  const [a, b, c, d, e, f] = srcFromDst;
  const { width: W, height: H } = spec;
  const grey = spec.mode === 'grey';
  const plane = W * H;
  const k = resizeKernel();
  if (!k || b !== 0 || d !== 0 || !isBound(img) || (grey ? 1 : 3) * plane * 4 > TAPS_AT || TAPS_AT + 16 * (W + H) > FRAME_AT) return false;
  const view = new DataView(k.memory.buffer);
  const cols = TAPS_AT;
  const rows = cols + 16 * W;
  // warp.ts starts each row at b*y + c (= c here) and adds a per pixel; rows at e*y + f.
  cropTaps(c, a, W, img.width, 3, view, cols);
  let at = rows;
  for (let y = 0; y < H; y++, at += 16) cropTaps(e * y + f, 0, 1, img.height, img.width * 3, view, at);
  const [pr, pg, pb] = planes(plane * 4, spec.mode);
  k.crop(FRAME_AT, W, H, cols, rows, pr, pg, pb, spec.scale, -spec.mean * spec.scale, grey ? 1 : 0);
  out.set(new Float32Array(k.memory.buffer, 0, (grey ? 1 : 3) * plane));
  return true;
}
