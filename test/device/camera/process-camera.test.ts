import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';
import { cameraConfigSchema } from '../../../device/camera/config.ts';
import { LibcameraCamera } from '../../../device/camera/libcamera.ts';
import { ProcessCamera, type SpawnFn } from '../../../device/camera/process-camera.ts';
import { CameraClosedError } from '../../../device/camera/types.ts';
import { trickyJpeg } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'portier-proc-cam-'));
writeFileSync(join(dir, 'a.jpg'), trickyJpeg(1));
writeFileSync(join(dir, 'b.jpg'), trickyJpeg(2));

/** Prints two JPEGs, complains on stderr and exits 1: a camera that keeps crashing. */
const crashing = join(dir, 'crashing.cjs');
writeFileSync(
  crashing,
  `const fs=require('fs');process.stdout.write(Buffer.concat([fs.readFileSync(${JSON.stringify(join(dir, 'a.jpg'))}),fs.readFileSync(${JSON.stringify(join(dir, 'b.jpg'))})]),()=>{process.stderr.write('ERROR: sensor timeout boom\\n');process.exit(1);});`,
);
/** Streams frames until killed. */
const streaming = join(dir, 'streaming.cjs');
writeFileSync(
  streaming,
  `const f=require('fs').readFileSync(${JSON.stringify(join(dir, 'a.jpg'))});setInterval(()=>process.stdout.write(f),5);`,
);

const countingSpawn = () => {
  const children: ChildProcess[] = [];
  const fn: SpawnFn = (c, a, o) => {
    const ch = spawn(c, a, o);
    children.push(ch);
    return ch;
  };
  return { fn, children };
};

const cams: ProcessCamera[] = [];
afterEach(async () => {
  for (const c of cams.splice(0)) await c.stop();
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ProcessCamera', () => {
  it('restarts a dying process with capped exponential backoff and logs why', async () => {
    const logs: LogRecord[] = [];
    const unsub = addLogSink((r) => logs.push(r));
    const sp = countingSpawn();
    const cam = new ProcessCamera({
      kind: 'fake',
      command: () => ({ command: process.execPath, args: [crashing] }),
      restart: { initialDelayMs: 40, factor: 2, maxDelayMs: 160, resetAfterMs: 60_000 },
      spawn: sp.fn,
    });
    cams.push(cam);
    const statuses: string[] = [];
    cam.on('status', (s) => statuses.push(s));
    await cam.start();
    const first = await cam.nextFrame();
    expect(first.data.equals(trickyJpeg(1)) || first.data.equals(trickyJpeg(2))).toBe(true);
    await waitFor(() => cam.stats.restarts >= 5);
    await cam.stop();
    unsub();
    // No tight loop: each restart waits longer, up to the cap.
    expect(cam.restartDelays.slice(0, 5)).toEqual([40, 80, 160, 160, 160]);
    expect(sp.children.length).toBeGreaterThanOrEqual(5);
    expect(sp.children.length).toBeLessThanOrEqual(7);
    expect(cam.stats.produced).toBeGreaterThanOrEqual(2 * 5);
    expect(cam.stats.corruptFrames).toBe(0);
    const warn = logs.find((r) => r.level === 'warn' && r.module === 'camera:fake');
    expect(warn?.fields?.why).toMatch(/exited \(code 1/);
    expect(warn?.fields?.stderr).toContain('sensor timeout boom');
    expect(statuses).toContain('restarting');
    expect(statuses).toContain('streaming');
    expect(statuses.at(-1)).toBe('stopped');
    await expect(cam.nextFrame()).rejects.toBeInstanceOf(CameraClosedError);
  });

  it('reports a missing binary and keeps retrying instead of crashing', async () => {
    const cam = new ProcessCamera({
      kind: 'missing',
      command: () => ({ command: '/nonexistent/rpicam-vid', args: [] }),
      restart: { initialDelayMs: 20, maxDelayMs: 40 },
    });
    cams.push(cam);
    const errors: Error[] = [];
    cam.on('error', (e) => errors.push(e));
    await cam.start();
    await waitFor(() => cam.stats.restarts >= 2);
    expect(errors[0].message).toMatch(/could not start \/nonexistent\/rpicam-vid: .*ENOENT/);
  });

  it('stop() terminates a streaming process; slow consumer gets the newest frame and drops are counted', async () => {
    const sp = countingSpawn();
    const cam = new ProcessCamera({ kind: 'stream', command: () => ({ command: process.execPath, args: [streaming] }), spawn: sp.fn });
    cams.push(cam);
    await cam.start();
    const a = await cam.nextFrame();
    await new Promise((r) => setTimeout(r, 200)); // a slow consumer
    const b = await cam.nextFrame();
    expect(b.seq).toBeGreaterThan(a.seq + 5);
    expect(cam.stats.dropped).toBeGreaterThanOrEqual(b.seq - a.seq - 2);
    expect(cam.stats.produced).toBeGreaterThanOrEqual(cam.stats.delivered + cam.stats.dropped);
    await cam.stop();
    expect(sp.children[0].exitCode !== null || sp.children[0].signalCode !== null).toBe(true);
    expect(cam.stats.restarts).toBe(0);
  });
});

describe('LibcameraCamera.captureStill', () => {
  it('passes only meant flags to node-libcamera and pauses the video process around the capture', async () => {
    const sp = countingSpawn();
    const calls: Record<string, unknown>[] = [];
    const cfg = cameraConfigSchema.parse({ type: 'libcamera', libcamera: { binary: process.execPath, extraArgs: [], stillWidth: 1920 } });
    const cam = new LibcameraCamera(cfg, {
      spawn: (_c, _a, o) => sp.fn(process.execPath, [streaming], o),
      still: async (opts) => {
        calls.push(opts);
        expect(sp.children.every((c) => c.exitCode !== null || c.signalCode !== null)).toBe(true); // camera released
        writeFileSync(String(opts.output), Buffer.from('still-jpeg'));
        return '';
      },
    });
    cams.push(cam);
    await cam.start();
    await cam.nextFrame();
    const still = await cam.captureStill();
    expect(still.toString()).toBe('still-jpeg');
    expect(calls[0]).toMatchObject({ timeout: 1000, nopreview: true, camera: 0, width: 1920 });
    expect(calls[0]).not.toHaveProperty('height');
    expect(calls[0]).not.toHaveProperty('hflip');
    expect(() => readFileSync(String(calls[0].output))).toThrow(); // temp file removed
    expect(sp.children).toHaveLength(2); // video restarted
    await cam.nextFrame();
  });

  it('does not end the frame loop: a consumer reading frames() keeps going after the still', async () => {
    const sp = countingSpawn();
    const cfg = cameraConfigSchema.parse({ type: 'libcamera', libcamera: { binary: process.execPath, extraArgs: [] } });
    const cam = new LibcameraCamera(cfg, {
      spawn: (_c, _a, o) => sp.fn(process.execPath, [streaming], o),
      still: async (opts) => void writeFileSync(String(opts.output), Buffer.from('still-jpeg')),
    });
    cams.push(cam);
    await cam.start();
    let ended = false;
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const f of cam.frames()) {
        seen.push(f.seq);
        if (seen.length > 1000) break;
      }
      ended = true;
    })();
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 10));
    await cam.captureStill();
    const after = seen.length;
    while (seen.length < after + 2) await new Promise((r) => setTimeout(r, 10));
    expect(ended).toBe(false);
    await cam.stop();
    await consumer;
    expect(ended).toBe(true);
  });
});
