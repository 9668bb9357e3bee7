import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, fromRawFrame, ImageDecodeError } from '../../../core/vision/image.ts';
import { fixture } from '../../helpers.ts';

const hopper = readFileSync(fixture('grace_hopper.jpg'));

describe('decodeImage', () => {
  it('decodes JPEG and PNG to packed RGB', async () => {
    const a = await decodeImage(hopper);
    expect([a.width, a.height, a.data.length]).toEqual([512, 512, 512 * 512 * 3]);
    const b = await decodeImage(readFileSync(fixture('astronaut_eileen_collins.png')));
    expect(b.data.length).toBe(b.width * b.height * 3);
  });

  it('rejects a truncated JPEG with a clear error', async () => {
    const cut = hopper.subarray(0, Math.floor(hopper.length / 2));
    await expect(decodeImage(cut)).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(cut)).rejects.toThrow(/cannot decode image/);
  });

  it('rejects corrupt bytes and empty input', async () => {
    const junk = Buffer.from(hopper);
    junk.fill(0x42, 2, 600); // destroy the JPEG headers after SOI
    await expect(decodeImage(junk)).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(Buffer.alloc(0))).rejects.toThrow(/not an image/);
  });

  it('applies EXIF orientation', async () => {
    // Store the pixels rotated 90deg counter-clockwise and tag orientation 6 ("rotate 90 CW to view").
    const wide = await sharp(hopper).resize(300, 200, { fit: 'fill' }).jpeg().toBuffer();
    const stored = await sharp(wide).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const meta = await sharp(stored).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([200, 300, 6]);
    const img = await decodeImage(stored);
    expect([img.width, img.height]).toEqual([300, 200]);
    // Upright again: compare a pixel region against the original wide image.
    const ref = await decodeImage(wide);
    let diff = 0;
    for (let i = 0; i < ref.data.length; i += 97) diff += Math.abs(ref.data[i] - img.data[i]);
    expect(diff / (ref.data.length / 97)).toBeLessThan(12);
  });

  it('downscales big photos to maxSide keeping aspect', async () => {
    const img = await decodeImage(hopper, { maxSide: 256 });
    expect([img.width, img.height]).toEqual([256, 256]);
  });
});

describe('fromRawFrame', () => {
  it('converts I420 grey and colour by BT.601', () => {
    const w = 4, h = 2;
    const yuv = new Uint8Array(w * h + 2 * 2 * 1);
    yuv.fill(235, 0, w * h); // white luma
    yuv.fill(128, w * h); // no chroma
    const img = fromRawFrame(yuv, w, h, 'yuv420');
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 255, 255]);
    // Pure red in BT.601 limited range: Y=81, U=90, V=240.
    yuv.fill(81, 0, w * h);
    yuv.fill(90, w * h, w * h + 2);
    yuv.fill(240, w * h + 2);
    const red = fromRawFrame(yuv, w, h, 'yuv420');
    expect(red.data[0]).toBeGreaterThan(245);
    expect(red.data[1]).toBeLessThan(10);
    expect(red.data[2]).toBeLessThan(10);
  });

  it('swaps BGR and refuses a short buffer', () => {
    const img = fromRawFrame(new Uint8Array([1, 2, 3, 4, 5, 6]), 2, 1, 'bgr24');
    expect(Array.from(img.data)).toEqual([3, 2, 1, 6, 5, 4]);
    expect(() => fromRawFrame(new Uint8Array(5), 2, 2, 'rgb24')).toThrow(/needs 12 bytes/);
  });
});
