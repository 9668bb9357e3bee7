import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const sharedDir = process.env.PORTIER_SHARED ?? resolve(repoRoot, '../shared');
export const webcamMjpeg = resolve(sharedDir, 'video/real_webcam_apfol.mjpeg');
export const webcamMp4 = resolve(sharedDir, 'video/real_webcam_apfol.mp4');

export function sharedFile(path: string): string | undefined {
  if (existsSync(path)) return path;
  console.warn(`SKIPPED: shared data ${path} not found (set PORTIER_SHARED)`);
  return undefined;
}

const seg = (marker: number, body: number[]) => [0xff, marker, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body];

/**
 * A structurally valid JPEG (not decodable; the splitter never decodes) with the traps a naive
 * FFD9 search falls into: an EXIF thumbnail carrying its own SOI/EOI in APP1, byte stuffing
 * (FF00), restart markers (FFD0-FFD7), fill bytes (FFFF) and a second scan.
 */
export function trickyJpeg(tag: number): Buffer {
  const thumb = [0xff, 0xd8, 0xff, 0xd9];
  const bytes = [
    0xff, 0xd8,
    ...seg(0xe1, [0x45, 0x78, 0x69, 0x66, 0, 0, ...thumb, tag]),
    ...seg(0xdb, new Array(65).fill(1)),
    ...seg(0xc0, [8, 0, 16, 0, 32, 1, 1, 0x11, 0]),
    ...seg(0xc4, [0, ...new Array(16).fill(0)]),
    ...seg(0xdd, [0, 4]),
    ...seg(0xda, [1, 1, 0, 0, 63, 0]),
    0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0x00, 0xff, 0xd7, tag, 0xff, 0xff, 0xd1, 0x99,
    ...seg(0xc4, [0x10, ...new Array(16).fill(0)]),
    ...seg(0xda, [1, 1, 0, 0, 63, 0]),
    0xab, 0xff, 0x00, 0xcd,
    0xff, 0xd9,
  ];
  return Buffer.from(bytes);
}
