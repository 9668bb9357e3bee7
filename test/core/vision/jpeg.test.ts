import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeSmallJpeg, fastJpegEligible, FAST_JPEG_MAX_PIXELS, readJpegHeader } from '../../../core/vision/jpeg.ts';
import { decodeImage } from '../../../core/vision/image.ts';
import { fixture, hasShared, sharedDir, skipReason } from '../../helpers.ts';

const hopper = readFileSync(fixture('grace_hopper.jpg'));

async function viaSharp(buf: Uint8Array): Promise<Buffer> {
  return sharp(buf).rotate().removeAlpha().toColorspace('srgb').raw().toBuffer();
}

describe('small JPEG decoding in this thread', () => {
  it("gives sharp's pixels exactly: baseline, progressive and grey", async () => {
    const small = sharp(hopper).resize(250, 250);
    const files = [await small.clone().jpeg({ quality: 90 }).toBuffer(), await small.clone().jpeg({ progressive: true }).toBuffer(), await small.clone().greyscale().jpeg().toBuffer()];
    for (const f of files) {
      const img = await decodeSmallJpeg(f, 0);
      expect(img).not.toBeNull();
      expect([img!.width, img!.height]).toEqual([250, 250]);
      expect(Buffer.from(img!.data).equals(await viaSharp(f))).toBe(true);
    }
  });

  it('reads the header: size, components, EXIF orientation, ICC profile, end marker', async () => {
    const base = await sharp(hopper).resize(300, 200, { fit: 'fill' }).jpeg().toBuffer();
    expect(readJpegHeader(base)).toMatchObject({ width: 300, height: 200, components: 3, orientation: 1, sof: 0xc0, precision: 8, icc: false, complete: true });
    const rotated = await sharp(base).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(readJpegHeader(rotated)!.orientation).toBe(6);
    const icc = await sharp(base).withIccProfile('p3').jpeg().toBuffer();
    expect(readJpegHeader(icc)!.icc).toBe(true);
    const cmyk = await sharp(base).toColourspace('cmyk').jpeg().toBuffer();
    expect(readJpegHeader(cmyk)!.components).toBe(4);
    expect(readJpegHeader(base.subarray(0, base.length - 100))!.complete).toBe(false);
    expect(readJpegHeader(Buffer.from('not a jpeg at all'))).toBeNull();
    const png = await sharp(base).png().toBuffer();
    expect(readJpegHeader(png)).toBeNull();
  });

  it('leaves to sharp what it would decode differently, and large images', async () => {
    const base = await sharp(hopper).resize(300, 200, { fit: 'fill' }).jpeg().toBuffer();
    expect(fastJpegEligible(readJpegHeader(base), 0)).toBe(true);
    expect(fastJpegEligible(readJpegHeader(base), 256)).toBe(false); // would be downscaled
    for (const f of [
      await sharp(base).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
      await sharp(base).withIccProfile('p3').jpeg().toBuffer(),
      await sharp(base).toColourspace('cmyk').jpeg().toBuffer(),
      hopper, // 512x512: above FAST_JPEG_MAX_PIXELS
    ]) {
      expect(await decodeSmallJpeg(f, 0)).toBeNull();
      const img = await decodeImage(f);
      expect(img.data.length).toBe(img.width * img.height * 3);
    }
    expect(await decodeSmallJpeg(base.subarray(0, base.length - 100), 0)).toBeNull();
    expect(512 * 512).toBeGreaterThan(FAST_JPEG_MAX_PIXELS);
    // The truncated one still gets sharp's clear error through decodeImage.
    await expect(decodeImage(base.subarray(0, base.length / 2))).rejects.toThrow(/cannot decode image/);
  });

  it('hands a corrupt small JPEG to sharp and keeps decoding the next one', async () => {
    const small = await sharp(hopper).resize(200, 200).jpeg().toBuffer();
    const at = (marker: number) => small.findIndex((v, i) => v === 0xff && small[i + 1] === marker);
    const garbled = Buffer.from(small);
    for (let i = at(0xda) + 40; i < at(0xda) + 400; i++) garbled[i] = (i * 37) & 0xff;
    const badTable = Buffer.from(small);
    badTable.fill(0xff, at(0xc4) + 5, at(0xc4) + 21);
    for (const f of [garbled, badTable]) expect(await decodeSmallJpeg(f, 0)).toBeNull();
    // sharp decides: the garbled scan decodes with warnings, the broken table is refused clearly.
    expect((await decodeImage(garbled)).width).toBe(200);
    await expect(decodeImage(badTable)).rejects.toThrow(/cannot decode image/);
    expect(await decodeSmallJpeg(small, 0)).not.toBeNull();
  });

  it.skipIf(skipReason(hasShared, '../shared missing: LFW pixel comparison not run'))('matches sharp on LFW photos from ../shared', async () => {
    const rows = readFileSync(join(sharedDir, 'faces/manifest.tsv'), 'utf8').split('\n').slice(1).filter((l) => /lfw/i.test(l));
    let fast = 0;
    for (const row of rows.filter((_, i) => i % 60 === 0)) {
      const buf = readFileSync(join(sharedDir, 'faces', row.split('\t')[0]));
      const img = await decodeSmallJpeg(buf, 0);
      if (!img) continue;
      fast++;
      expect(Buffer.from(img.data).equals(await viaSharp(buf))).toBe(true);
    }
    expect(fast).toBeGreaterThan(20);
  });
});
