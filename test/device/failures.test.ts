/**
 * The device under bad conditions: corrupt frames, a camera process that keeps dying, a full
 * disk under the outbox, a corrupt database. Each one: a clear log, no crash loop, door locked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../core/log/logger.ts';
import { enrolPerson } from '../../device/enrol.ts';
import type { SimulatedGpio } from '../../device/gpio/simulated.ts';
import { fixture, hasModels, skipReason } from '../helpers.ts';
import { ALL_WEEK, deviceSuite, idleCamera, runDevice, testConfig } from './harness.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('device failure modes', () => {
  const suite = deviceSuite();
  const dir = suite.dir;
  const logs: LogRecord[] = [];
  let unsink: () => void;
  beforeAll(() => {
    unsink = addLogSink((r) => logs.push(r));
  });
  afterAll(() => unsink());
  const relayLevels = (d: { gpio: unknown; config: { door: { relay: { pin: number } } } }) =>
    (d.gpio as SimulatedGpio).outputHistory(d.config.door.relay.pin).map((h) => h.level);

  it('skips corrupt frames with one warning and keeps recognising', async () => {
    const d = dir();
    // Frames are fed faster than an approach lasts; liveness has its own tests (liveness.test.ts).
    const device = await runDevice(testConfig(d, { ...idleCamera(d), liveness: { level: 'off' } }), suite.engine());
    const corrupt: number[] = [];
    device.loop.on('corrupt', (seq: number) => corrupt.push(seq));
    const good = readFileSync(fixture('grace_hopper.jpg'));
    const frame = (data: Buffer, seq: number) => ({ data, format: 'jpeg' as const, ts: Date.now(), seq });
    await device.loop.processFrame(frame(Buffer.from('not a jpeg at all'), 1));
    await device.loop.processFrame(frame(good.subarray(0, 3000), 2));
    const frames: number[] = [];
    device.loop.on('frame', (f: { faces: number }) => frames.push(f.faces));
    await device.loop.processFrame(frame(good, 3));
    const state = device.door.state;
    await device.stop();
    expect(corrupt).toEqual([1, 2]);
    expect(frames).toEqual([1]);
    expect(logs.filter((l) => l.msg === 'corrupt frame skipped')).toHaveLength(1);
    expect(state.locked).toBe(true);
  });

  it('recognises raw YUV420 frames and refuses a short one as corrupt', async () => {
    const d = dir();
    // Frames are fed faster than an approach lasts; liveness has its own tests (liveness.test.ts).
    const device = await runDevice(testConfig(d, { ...idleCamera(d), liveness: { level: 'off' } }), suite.engine());
    const { data, info } = await sharp(readFileSync(fixture('grace_hopper.jpg'))).resize(320, 320).raw().toBuffer({ resolveWithObject: true });
    const w = info.width, h = info.height;
    // RGB -> I420, BT.601 limited range (what rpicam-vid --codec yuv420 delivers).
    const yuv = Buffer.alloc(w * h * 1.5);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const [r, g, b] = [data[(y * w + x) * 3], data[(y * w + x) * 3 + 1], data[(y * w + x) * 3 + 2]];
      yuv[y * w + x] = 16 + 0.257 * r + 0.504 * g + 0.098 * b;
      if (y % 2 === 0 && x % 2 === 0) {
        yuv[w * h + (y / 2) * (w / 2) + x / 2] = 128 - 0.148 * r - 0.291 * g + 0.439 * b;
        yuv[w * h * 1.25 + (y / 2) * (w / 2) + x / 2] = 128 + 0.439 * r - 0.368 * g - 0.071 * b;
      }
    }
    const faces: number[] = [];
    const corrupt: number[] = [];
    device.loop.on('frame', (f: { faces: number }) => faces.push(f.faces));
    device.loop.on('corrupt', (seq: number) => corrupt.push(seq));
    await device.loop.processFrame({ data: yuv, format: 'yuv420', width: w, height: h, ts: Date.now(), seq: 1 });
    await device.loop.processFrame({ data: yuv.subarray(0, 100), format: 'yuv420', width: w, height: h, ts: Date.now(), seq: 2 });
    await device.stop();
    expect(faces).toEqual([1]);
    expect(corrupt).toEqual([2]);
  });

  it('restarts a dying camera process with backoff and stays locked', async () => {
    const d = dir();
    const cfg = testConfig(d, { camera: { type: 'libcamera', libcamera: { binary: '/bin/false' }, restart: { initialDelayMs: 100, maxDelayMs: 400 } } });
    const device = await runDevice(cfg, suite.engine());
    await new Promise((r) => setTimeout(r, 1500));
    const restarts = device.camera.stats.restarts;
    const state = device.state();
    await device.stop();
    // 100 + 200 + 400 + 400 ms: a handful of restarts in 1.5 s, not a tight loop.
    expect(restarts).toBeGreaterThanOrEqual(2);
    expect(restarts).toBeLessThanOrEqual(6);
    expect(logs.some((l) => /camera process died/.test(l.msg))).toBe(true);
    expect(state.camera.status).not.toBe('up');
    expect(device.door.state.locked).toBe(true);
    expect(relayLevels(device)).not.toContain(1);
  });

  it('keeps the door locked and loses nothing when the outbox disk is full', async () => {
    const d = dir();
    // One frame decides (liveness off: an approach would need a second of frames).
    const device = await runDevice(testConfig(d, { ...idleCamera(d), recognition: { votesNeeded: 1, minLiveFrames: 1 }, liveness: { level: 'off' } }), suite.engine());
    const hopper = readFileSync(fixture('grace_hopper.jpg'));
    await enrolPerson(device, { id: 'gh', name: 'Grace', active: true, validFrom: null, validUntil: null, groups: [], schedules: ALL_WEEK }, [{ label: 'gh', data: hopper }]);
    const before = device.store.outbox.peek(1000).map((e) => e.id);
    // Freeze the database at its current size: the next write fails with SQLITE_FULL.
    const pages = device.store.db.pragma('page_count', { simple: true }) as number;
    device.store.db.pragma(`max_page_count = ${pages}`);
    // Fill with ever smaller records so no free space is left for even a small event.
    let failures = 0;
    for (const size of [65536, 4096, 256, 1]) {
      for (let i = 0; i < 2000; i++) {
        try {
          device.store.outbox.append({ kind: 'filler', body: 'x'.repeat(size) });
        } catch {
          failures++;
          break;
        }
      }
    }
    expect(failures).toBe(4);
    const kept = device.store.outbox.peek(100_000).map((e) => e.id);
    const failed: unknown[] = [];
    device.loop.on('decision-failed', (_e: unknown, err: unknown) => failed.push(err));
    await device.loop.processFrame({ data: hopper, format: 'jpeg', ts: Date.now(), seq: 1 });
    const after = device.store.outbox.peek(100_000).map((e) => e.id);
    const locked = device.door.state.locked;
    const relay = relayLevels(device);
    await device.stop();
    expect(failed).toHaveLength(1);
    expect(String(failed[0])).toMatch(/storage is full/);
    expect(locked).toBe(true);
    expect(relay).not.toContain(1);
    expect(after).toEqual(kept);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(logs.some((l) => /door stays locked/.test(l.msg))).toBe(true);
  });

  it('salvages a corrupt database, records it, starts locked, or refuses when told to', async () => {
    const d = dir();
    writeFileSync(join(d, 'portier.db'), Buffer.alloc(8192, 0x5a));
    // Frames are fed faster than an approach lasts; liveness has its own tests (liveness.test.ts).
    const device = await runDevice(testConfig(d, { ...idleCamera(d), liveness: { level: 'off' } }), suite.engine());
    const locked = device.door.state.locked;
    const events = device.store.outbox.peek(10);
    await device.stop();
    expect(locked).toBe(true);
    // Nothing was readable in that file; the salvage itself is the one event recorded.
    expect(events.map((e) => e.kind)).toEqual(['store']);
    expect(events[0].body).toMatchObject({ event: 'salvaged', lostRows: 0 });
    expect(logs.some((l) => l.level === 'error' && /corrupt/i.test(l.msg))).toBe(true);

    const d2 = dir();
    writeFileSync(join(d2, 'portier.db'), Buffer.alloc(8192, 0x5a));
    await expect(runDevice(testConfig(d2, { ...idleCamera(d2), store: { onCorrupt: 'refuse' } }), suite.engine())).rejects.toThrow(/corrupt|not a database/i);
  });
});
