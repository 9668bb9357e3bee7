/** The running daemon's local endpoint reflects what the loop did. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { fixture, hasModels, makeEngine, skipReason } from '../helpers.ts';
import { runDevice, tempDir, testConfig } from './harness.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('device status endpoint', () => {
  let engine: VisionEngine;
  const t = tempDir();
  beforeAll(async () => {
    engine = await makeEngine();
  });
  afterAll(async () => {
    await engine?.close();
    t.cleanup();
  });

  it('serves state, health and per-stage inference metrics after a frame', async () => {
    writeFileSync(join(t.dir, 'idle.json'), JSON.stringify([{ idle: 30 }]));
    const cfg = testConfig(t.dir, { http: { enabled: true, port: 0 }, camera: { type: 'simulated', simulated: { source: join(t.dir, 'idle.json'), loop: false } } });
    const device = await runDevice(cfg, engine);
    try {
      const base = `http://${device.http!.host}:${device.http!.port}`;
      await device.loop.processFrame({ data: readFileSync(fixture('grace_hopper.jpg')), format: 'jpeg', ts: Date.now(), seq: 1 });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      for (const stage of ['detect', 'landmark', 'feature', 'liveness']) {
        expect(metrics).toMatch(new RegExp(`portier_inference_seconds_count\\{stage="${stage}"\\} 1\\b`));
      }
      const state = await (await fetch(`${base}/state`)).json();
      expect(state).toMatchObject({ door: { state: 'locked' }, gallerySize: 0 });
      expect(typeof state.outboxDepth).toBe('number');
      const health = await fetch(`${base}/health`);
      // The idle scenario delivers no frames, so the loop has never ticked: health says why.
      expect(health.status).toBe(503);
      expect(JSON.stringify(await health.json())).toMatch(/no_frame_yet/);
    } finally {
      await device.stop();
    }
  });
});
