import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cameraConfigSchema } from '../../../device/camera/config.ts';
import { jpegSize, splitMjpeg } from '../../../device/camera/mjpeg.ts';
import { SimulatedCamera } from '../../../device/camera/simulated.ts';
import { CameraClosedError, type Frame } from '../../../device/camera/types.ts';
import { findExecutable } from '../../../device/camera/which.ts';
import { sharedFile, webcamMjpeg, webcamMp4 } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'portier-sim-cam-'));
const img = (w: number) => sharp({ create: { width: w, height: 8, channels: 3, background: '#808080' } }).jpeg().toBuffer();

beforeAll(async () => {
  mkdirSync(join(dir, 'folder'));
  // Natural order: 2 before 10; width tells which image a frame came from.
  writeFileSync(join(dir, 'folder', '10.jpg'), await img(30));
  writeFileSync(join(dir, 'folder', '2.jpg'), await img(20));
  writeFileSync(join(dir, 'folder', '1.jpg'), await img(10));
  writeFileSync(join(dir, 'folder', 'notes.txt'), 'ignored');
  writeFileSync(join(dir, 'folder', '3.png'), await sharp({ create: { width: 25, height: 8, channels: 3, background: '#000' } }).png().toBuffer());
  writeFileSync(join(dir, 'b.mjpeg'), Buffer.concat([await img(50), await img(51)]));
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify([{ clip: 'folder', seconds: 0.3 }, { idle: 0.4 }, { clip: 'b.mjpeg' }]));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify([{ clip: 'folder', secs: 1 }]));
});

const cams: SimulatedCamera[] = [];
afterEach(async () => {
  for (const c of cams.splice(0)) await c.stop();
});
const make = (simulated: Record<string, unknown>, fps = 100) => {
  const c = new SimulatedCamera(cameraConfigSchema.parse({ fps, simulated }));
  cams.push(c);
  return c;
};
async function drain(cam: SimulatedCamera): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of cam.frames()) out.push(f);
  return out;
}

describe('SimulatedCamera', () => {
  it('plays a folder once in natural order, converting PNG, then ends', async () => {
    const cam = make({ source: join(dir, 'folder'), loop: false }, 50);
    await cam.start();
    const frames = await drain(cam);
    expect(frames.map((f) => f.width)).toEqual([10, 20, 25, 30]);
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2, 3]);
    expect(frames.every((f) => f.format === 'jpeg' && f.data[0] === 0xff && f.height === 8)).toBe(true);
    expect(cam.status).toBe('ended');
    await expect(cam.nextFrame()).rejects.toBeInstanceOf(CameraClosedError);
  });

  it('loops, paced at the set frame rate', async () => {
    const cam = make({ source: join(dir, 'folder'), loop: true }, 50);
    await cam.start();
    const t0 = performance.now();
    const widths: number[] = [];
    for (let i = 0; i < 10; i++) widths.push((await cam.nextFrame()).width!);
    const elapsed = performance.now() - t0;
    expect(widths).toEqual([10, 20, 25, 30, 10, 20, 25, 30, 10, 20]);
    expect(elapsed).toBeGreaterThan(9 * 20 * 0.8); // 50 fps: 20 ms apart, not a burst
  });

  it('drops frames for a slow consumer and hands out the newest', async () => {
    const cam = make({ source: join(dir, 'folder'), loop: true }, 200);
    await cam.start();
    const a = await cam.nextFrame();
    await new Promise((r) => setTimeout(r, 150));
    const b = await cam.nextFrame();
    expect(b.seq - a.seq).toBeGreaterThan(5);
    expect(cam.stats.dropped).toBe(b.seq - a.seq - 1);
    expect(cam.stats.delivered).toBe(2);
  });

  it.skipIf(!sharedFile(webcamMjpeg))('plays the real MJPEG file', async () => {
    const cam = make({ source: webcamMjpeg, loop: false }, 240);
    await cam.start();
    const f = await cam.nextFrame();
    expect([f.width, f.height]).toEqual([640, 480]);
    await cam.stop();
    expect(cam.status).toBe('stopped');
  });

  it('runs a scenario: clip for a set time, idle gap, second clip once', async () => {
    const cam = make({ source: join(dir, 'scenario.json'), loop: false }, 50);
    await cam.start();
    const frames = await drain(cam);
    const at = (w: number) => frames.filter((f) => f.width === w);
    expect(at(10).length + at(20).length + at(25).length + at(30).length).toBeGreaterThanOrEqual(10); // ~15 in 0.3 s
    const lastFolder = frames.filter((f) => f.width! < 50).at(-1)!;
    const b = frames.filter((f) => f.width! >= 50);
    expect(b.map((f) => f.width)).toEqual([50, 51]);
    expect(b[0].ts - lastFolder.ts).toBeGreaterThanOrEqual(350);
  });

  it('rejects a bad scenario or source with a clear error', async () => {
    await expect(make({ source: join(dir, 'bad.json') }).start()).rejects.toThrow(/scenario .*bad\.json is invalid: 0/);
    await expect(make({ source: join(dir, 'nothing-here.mjpeg') }).start()).rejects.toThrow(/ENOENT/);
  });

  const ffmpeg = findExecutable('ffmpeg');
  if (!ffmpeg) console.warn('SKIPPED: video tests: ffmpeg not found (apt-get install -y ffmpeg)');
  it.skipIf(!ffmpeg || !sharedFile(webcamMp4))('decodes a video file through ffmpeg', async () => {
    const cam = make({ source: webcamMp4, loop: false }, 30);
    await cam.start();
    const frames: Frame[] = [];
    for (let i = 0; i < 3; i++) frames.push(await cam.nextFrame());
    for (const f of frames) {
      expect(jpegSize(f.data)).toEqual({ width: 640, height: 480 });
      expect(splitMjpeg(f.data).frames).toHaveLength(1);
    }
    expect(frames[2].seq).toBeGreaterThan(frames[0].seq);
  });
});
