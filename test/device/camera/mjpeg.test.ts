import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegSize, MjpegSplitter, splitMjpeg } from '../../../device/camera/mjpeg.ts';
import { sharedFile, trickyJpeg, webcamMjpeg } from './fixtures.ts';

const realFile = sharedFile(webcamMjpeg);

describe('MjpegSplitter on real webcam MJPEG', () => {
  it.skipIf(!realFile)('finds every frame, each a whole decodable JPEG', async () => {
    const data = readFileSync(realFile!);
    const { frames, stats } = splitMjpeg(data);
    // 11.7 s at 15 fps
    expect(frames.length).toBeGreaterThanOrEqual(170);
    expect(frames.length).toBeLessThanOrEqual(180);
    expect(stats.garbageBytes).toBe(0);
    expect(stats.corruptFrames).toBe(0);
    expect(frames.reduce((n, f) => n + f.length, 0)).toBe(data.length);
    for (const f of frames) {
      expect(f.readUInt16BE(0)).toBe(0xffd8);
      expect(f.readUInt16BE(f.length - 2)).toBe(0xffd9);
      expect(jpegSize(f)).toEqual({ width: 640, height: 480 });
    }
    for (const i of [0, Math.floor(frames.length / 2), frames.length - 1]) {
      const meta = await sharp(frames[i]).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 480]);
      await sharp(frames[i]).raw().toBuffer(); // decodes in full
    }
  });

  it.skipIf(!realFile)('reassembles a frame split across two chunks at every offset', () => {
    const { frames } = splitMjpeg(readFileSync(realFile!));
    const pair = Buffer.concat([frames[0], frames[1]]);
    for (let k = 0; k <= pair.length; k++) {
      const s = new MjpegSplitter();
      const out = [...s.push(pair.subarray(0, k)), ...s.push(pair.subarray(k))];
      if (out.length !== 2 || !out[0].equals(frames[0]) || !out[1].equals(frames[1])) {
        throw new Error(`split at offset ${k} gave ${out.length} frames`);
      }
    }
  });

  it.skipIf(!realFile)('copes with one-byte chunks', () => {
    const { frames } = splitMjpeg(readFileSync(realFile!));
    const s = new MjpegSplitter();
    const out: Buffer[] = [];
    const f = frames[2];
    for (let i = 0; i < f.length; i++) out.push(...s.push(f.subarray(i, i + 1)));
    expect(out).toHaveLength(1);
    expect(out[0].equals(f)).toBe(true);
  });
});

describe('MjpegSplitter on tricky structure', () => {
  it('is not fooled by an EXIF thumbnail, stuffing, restart markers or fill bytes', () => {
    const a = trickyJpeg(1);
    const b = trickyJpeg(2);
    // A naive search for FFD9 would end the frame inside the thumbnail.
    expect(a.indexOf(Buffer.from([0xff, 0xd9]))).toBeLessThan(a.length - 2);
    const { frames, stats } = splitMjpeg(Buffer.concat([a, b]));
    expect(frames.map((f) => f.equals(a) || f.equals(b))).toEqual([true, true]);
    expect(frames[1].equals(b)).toBe(true);
    expect(stats).toEqual({ frames: 2, garbageBytes: 0, corruptFrames: 0 });
    expect(jpegSize(a)).toEqual({ width: 32, height: 16 });
  });

  it('splits the tricky frame at every offset of every chunk boundary pair', () => {
    const a = trickyJpeg(7);
    for (let i = 0; i <= a.length; i++) {
      for (let j = i; j <= a.length; j++) {
        const s = new MjpegSplitter();
        const out = [...s.push(a.subarray(0, i)), ...s.push(a.subarray(i, j)), ...s.push(a.subarray(j))];
        if (out.length !== 1 || !out[0].equals(a)) throw new Error(`chunks at ${i},${j} gave ${out.length} frames`);
      }
    }
  });
});

describe('MjpegSplitter on damaged streams', () => {
  const f1 = trickyJpeg(1);
  const f2 = trickyJpeg(2);
  const f3 = trickyJpeg(3);

  it('skips and counts garbage between frames', () => {
    const junk = Buffer.from('not a jpeg \xff\xd8 nearly');
    const s = new MjpegSplitter();
    const out = [...s.push(Buffer.concat([junk, f1, junk])), ...s.push(Buffer.concat([f2, junk]))];
    s.end();
    expect(out.map((f) => f[f.length - 17])).toHaveLength(2);
    expect(out[0].equals(f1) && out[1].equals(f2)).toBe(true);
    expect(s.stats.garbageBytes).toBe(3 * junk.length);
    expect(s.stats.corruptFrames).toBe(0);
  });

  it('drops a frame truncated inside its entropy data and keeps the next', () => {
    const firstScan = f2.indexOf(Buffer.from([0xff, 0xda]));
    const cut = f2.subarray(0, firstScan + 14); // inside the first scan, after a stuffed byte
    const { frames, stats } = splitMjpeg(Buffer.concat([f1, cut, f3]));
    expect(frames).toHaveLength(2);
    expect(frames[0].equals(f1) && frames[1].equals(f3)).toBe(true);
    expect(stats.corruptFrames).toBe(1);
  });

  it('recovers when a frame breaks off inside a header segment', () => {
    const cut = f2.subarray(0, 8); // SOI + the start of APP1 whose length runs into f3
    const { frames, stats } = splitMjpeg(Buffer.concat([f1, cut, f3]));
    expect(frames.map((f) => f.equals(f1) || f.equals(f3))).toEqual([true, true]);
    expect(stats.corruptFrames).toBe(1);
  });

  it('counts a frame left unfinished at end of stream', () => {
    const s = new MjpegSplitter();
    expect(s.push(Buffer.concat([f1, f2.subarray(0, 50)]))).toHaveLength(1);
    expect(s.pendingBytes).toBe(50);
    s.end();
    expect(s.stats.corruptFrames).toBe(1);
  });

  it('bounds memory when an end marker never comes', () => {
    const s = new MjpegSplitter(4096);
    const sosStart = f1.indexOf(Buffer.from([0xff, 0xda]));
    s.push(f1.subarray(0, sosStart + 10));
    for (let i = 0; i < 10; i++) s.push(Buffer.alloc(1000, 0x55));
    expect(s.stats.corruptFrames).toBe(1);
    expect(s.pendingBytes).toBe(0);
    expect(s.push(f3)).toHaveLength(1);
  });
});
