/**
 * In-thread decoding of small, plain JPEGs (face crops, thumbnails, LFW-sized photos) with the
 * mozjpeg WebAssembly build from @jsquash/jpeg: the same decoder sharp's libvips uses, and
 * pixel-identical to it on every JPEG in ../shared/faces (test/core/vision/jpeg.test.ts checks
 * the fixtures). libvips costs about 0.6 ms per call whatever the size (thread pool and
 * pipeline set-up), which is half the decode of a 250x250 photo: 0.59 ms here against 1.18 ms.
 * Per pixel libvips is faster (640x480: 3.8 ms against 4.4 ms), so larger images, and anything
 * this file is not sure about, go to sharp (image.ts): EXIF rotation, embedded colour profiles,
 * CMYK, 12-bit, arithmetic coding, a missing end marker (a truncated file gets sharp's error).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RgbImage } from './image.ts';

/** Above this many pixels sharp is faster (measured crossover about 150k). */
export const FAST_JPEG_MAX_PIXELS = 160_000;

export interface JpegHeader {
  width: number;
  height: number;
  components: number;
  /** EXIF orientation (1 = upright, also when there is no EXIF); 0 when the EXIF is unreadable. */
  orientation: number;
  /** SOF marker: 0xC0 baseline, 0xC1 extended, 0xC2 progressive (Huffman); others are rarer. */
  sof: number;
  precision: number;
  /** An APP2 ICC profile is present (colour conversion is left to sharp). */
  icc: boolean;
  /** The file ends with the end-of-image marker (trailing zero padding allowed). */
  complete: boolean;
}

const u16 = (b: Uint8Array, p: number, le = false) => (le ? b[p] | (b[p + 1] << 8) : (b[p] << 8) | b[p + 1]);
const u32 = (b: Uint8Array, p: number, le = false) => (le ? (u16(b, p, true) | (u16(b, p + 2, true) << 16)) >>> 0 : ((u16(b, p) << 16) | u16(b, p + 2)) >>> 0);

/** Orientation tag (0x0112) of IFD0 in a TIFF block at [t, end); 1 when absent, 0 when unreadable. */
function exifOrientation(b: Uint8Array, t: number, end: number): number {
  if (t + 8 > end) return 0;
  const le = b[t] === 0x49 && b[t + 1] === 0x49;
  if (!le && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return 0;
  if (u16(b, t + 2, le) !== 42) return 0;
  const ifd = t + u32(b, t + 4, le);
  if (ifd + 2 > end) return 0;
  const count = u16(b, ifd, le);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > end) return 0;
    if (u16(b, e, le) === 0x0112) return u16(b, e + 8, le);
  }
  return 1;
}

/** Read the markers up to the first scan; null when this is not a well-formed JPEG start. */
export function readJpegHeader(b: Uint8Array): JpegHeader | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  const h: JpegHeader = { width: 0, height: 0, components: 0, orientation: 1, sof: 0, precision: 0, icc: false, complete: false };
  let p = 2;
  for (;;) {
    if (p + 4 > b.length || b[p] !== 0xff) return null;
    const m = b[p + 1];
    if (m === 0xff) {
      p += 1; // fill byte
      continue;
    }
    const len = u16(b, p + 2);
    if (len < 2 || p + 2 + len > b.length) return null;
    const s = p + 4;
    const end = p + 2 + len;
    if (m === 0xe1 && len >= 8 && b[s] === 0x45 && b[s + 1] === 0x78 && b[s + 2] === 0x69 && b[s + 3] === 0x66 && b[s + 4] === 0 && b[s + 5] === 0) {
      h.orientation = exifOrientation(b, s + 6, end);
    } else if (m === 0xe2 && len >= 14 && String.fromCharCode(...b.subarray(s, s + 11)) === 'ICC_PROFILE') {
      h.icc = true;
    } else if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      h.sof = m;
      h.precision = b[s];
      h.height = u16(b, s + 1);
      h.width = u16(b, s + 3);
      h.components = b[s + 5];
    } else if (m === 0xda) {
      break;
    }
    p = end;
  }
  let e = b.length;
  while (e > 2 && b[e - 1] === 0) e--;
  h.complete = b[e - 2] === 0xff && b[e - 1] === 0xd9;
  return h;
}

/** Whether the in-thread decoder gives exactly what sharp would for this header. */
export function fastJpegEligible(h: JpegHeader | null, maxSide: number): h is JpegHeader {
  if (!h || !h.complete || h.icc || h.orientation !== 1) return false;
  if (h.sof !== 0xc0 && h.sof !== 0xc1 && h.sof !== 0xc2) return false;
  if (h.precision !== 8 || (h.components !== 1 && h.components !== 3)) return false;
  if (h.width <= 0 || h.height <= 0 || h.width * h.height > FAST_JPEG_MAX_PIXELS) return false;
  return !(maxSide > 0 && Math.max(h.width, h.height) > maxSide);
}

type Decode = (data: ArrayBuffer, preserveOrientation: boolean) => { data: Uint8ClampedArray; width: number; height: number } | null;
let decoder: Promise<Decode | null> | undefined;

/**
 * The mozjpeg module, compiled once; null when it cannot load (everything then goes to sharp).
 * VisionEngine.create starts it, so the first frame does not pay the compile.
 */
export function loadDecoder(): Promise<Decode | null> {
  decoder ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      const wasm = new WebAssembly.Module(readFileSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
      const { default: factory } = (await import('@jsquash/jpeg/codec/dec/mozjpeg_dec.js')) as unknown as {
        default: (opts: Record<string, unknown>) => Promise<{ decode: Decode }>;
      };
      const mod = await factory({
        noInitialRun: true,
        // libjpeg's warnings ("Corrupt JPEG data ...") would go to stderr; a refused file goes
        // on to sharp, whose error is the one reported.
        print: () => {},
        printErr: () => {},
        instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
          const instance = new WebAssembly.Instance(wasm, imports);
          done(instance);
          return instance.exports;
        },
      });
      return mod.decode.bind(mod);
    } catch {
      return null;
    }
  })();
  return decoder;
}

/**
 * Decode in this thread when the JPEG is small and plain (fastJpegEligible); null otherwise, or
 * when the decoder fails, so the caller falls back to sharp.
 */
export async function decodeSmallJpeg(buf: Uint8Array, maxSide: number): Promise<RgbImage | null> {
  const h = readJpegHeader(buf);
  if (!fastJpegEligible(h, maxSide)) return null;
  const decode = await loadDecoder();
  if (!decode) return null;
  let rgba: ReturnType<Decode>;
  try {
    rgba = decode(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, true);
  } catch {
    // A fatal libjpeg error can leave the module aborted: start a fresh one next time.
    decoder = undefined;
    return null;
  }
  if (!rgba || rgba.width !== h.width || rgba.height !== h.height) return null;
  const n = rgba.width * rgba.height;
  const src = rgba.data;
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n * 3; i += 3, j += 4) {
    out[i] = src[j];
    out[i + 1] = src[j + 1];
    out[i + 2] = src[j + 2];
  }
  return { width: rgba.width, height: rgba.height, data: out };
}
