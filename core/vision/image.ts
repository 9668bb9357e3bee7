/**
 * Image input: everything becomes a packed 8-bit RGB buffer. JPEG/PNG go through sharp (libvips,
 * prebuilt inside its npm package) which honours EXIF orientation; raw camera frames (RGB24,
 * YUV420/I420, NV12) are converted here without a copy where possible.
 */
import sharp from 'sharp';
import { decodeSmallJpeg } from './jpeg.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** Packed RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
}

export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

// One libvips thread per decode: images here are small and both cores are busy with inference.
sharp.concurrency(1);
sharp.cache(false);

export interface DecodeOptions {
  /** Downscale (keeping aspect) so the longer side is at most this many pixels; 0 = never. */
  maxSide?: number;
}

/**
 * Decode a JPEG or PNG (or any format libvips reads) to upright RGB. Small plain JPEGs decode in
 * this thread (jpeg.ts: same decoder, same pixels, without libvips' fixed cost per call).
 */
export async function decodeImage(buf: Uint8Array, opts: DecodeOptions = {}): Promise<RgbImage> {
  if (!buf || buf.length < 8) throw new ImageDecodeError(`not an image: ${buf?.length ?? 0} bytes`);
  const small = await decodeSmallJpeg(buf, opts.maxSide ?? 0);
  if (small) return small;
  try {
    // failOn 'truncated' turns a cut-off JPEG into an error instead of a grey half-image.
    let pipeline = sharp(buf, { failOn: 'truncated', limitInputPixels: 64_000_000 }).rotate();
    if (opts.maxSide && opts.maxSide > 0) {
      pipeline = pipeline.resize({ width: opts.maxSide, height: opts.maxSide, fit: 'inside', withoutEnlargement: true });
    }
    const { data, info } = await pipeline.removeAlpha().toColorspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageDecodeError(`unexpected channel count ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(`cannot decode image (${buf.length} bytes): ${(err as Error).message}`);
  }
}

export type RawFormat = 'rgb24' | 'bgr24' | 'yuv420' | 'nv12';

const clamp8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Convert a raw camera frame to RGB. YUV uses BT.601 limited range, what rpicam/V4L2 deliver. */
export function fromRawFrame(data: Uint8Array, width: number, height: number, format: RawFormat): RgbImage {
  const n = width * height;
  const expected = format === 'rgb24' || format === 'bgr24' ? n * 3 : n + 2 * ((width + 1) >> 1) * ((height + 1) >> 1);
  if (data.length < expected) {
    throw new ImageDecodeError(`raw ${format} frame ${width}x${height} needs ${expected} bytes, got ${data.length}`);
  }
  if (format === 'rgb24') return { width, height, data: data.subarray(0, n * 3) };
  const out = new Uint8Array(n * 3);
  if (format === 'bgr24') {
    for (let i = 0; i < n * 3; i += 3) {
      out[i] = data[i + 2];
      out[i + 1] = data[i + 1];
      out[i + 2] = data[i];
    }
    return { width, height, data: out };
  }
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const uOff = n;
  const vOff = n + cw * ch;
  for (let y = 0; y < height; y++) {
    const cy = y >> 1;
    for (let x = 0; x < width; x++) {
      const cx = x >> 1;
      let u: number, v: number;
      if (format === 'nv12') {
        const c = n + cy * cw * 2 + cx * 2;
        u = data[c] - 128;
        v = data[c + 1] - 128;
      } else {
        u = data[uOff + cy * cw + cx] - 128;
        v = data[vOff + cy * cw + cx] - 128;
      }
      const yy = 1.164 * (data[y * width + x] - 16);
      const o = (y * width + x) * 3;
      out[o] = clamp8(yy + 1.596 * v);
      out[o + 1] = clamp8(yy - 0.392 * u - 0.813 * v);
      out[o + 2] = clamp8(yy + 2.017 * u);
    }
  }
  return { width, height, data: out };
}
