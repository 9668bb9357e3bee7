/** The running daemon's local endpoint reflects what the loop did. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, hasModels, skipReason } from '../helpers.ts';
import { deviceSuite, idleCamera, runDevice, testConfig } from './harness.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('device status endpoint', () => {
  const suite = deviceSuite();

  it('serves state, health, and per-stage inference, door and process metrics after a frame', async () => {
    const dir = suite.dir();
    const device = await runDevice(testConfig(dir, { http: { enabled: true, port: 0 }, ...idleCamera(dir) }), suite.engine());
    try {
      const base = `http://${device.http!.host}:${device.http!.port}`;
      await device.loop.processFrame({ data: readFileSync(fixture('grace_hopper.jpg')), format: 'jpeg', ts: Date.now(), seq: 1 });
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toBe(device.metrics.registry.contentType);
      const metrics = await res.text();
      for (const stage of ['detect', 'landmark', 'feature', 'liveness']) {
        expect(metrics).toMatch(new RegExp(`portier_inference_seconds_count\\{stage="${stage}"\\} 1\\b`));
      }
      expect(metrics).toMatch(/^portier_faces_detected_total 1$/m);
      expect(metrics).toMatch(/^portier_door_state\{door="[^"]+",state="locked"\} 1$/m);
      expect(metrics).toMatch(/^portier_gallery_size 0$/m);
      // Nobody enrolled: nothing to derive from yet, so the fallback threshold and no expected FPIR.
      expect(metrics).toMatch(/^portier_match_threshold 0\.45$/m);
      expect(metrics).toMatch(/^portier_match_expected_fpir Nan$/m);
      // prom-client's process metrics, under the device prefix.
      expect(metrics).toMatch(/^portier_process_resident_memory_bytes [1-9]/m);
      expect(metrics).toContain('# TYPE portier_nodejs_eventloop_lag_seconds gauge');
      // Where each model runs (cpu here: the npm build has no GPU provider) and at which precision.
      const models = suite.engine().models();
      for (const [model, m] of Object.entries(models)) {
        expect(metrics).toContain(`portier_model_info{model="${model}",precision="${m.precision}",provider="${m.provider}"} 1`);
      }
      const state = await (await fetch(`${base}/state`)).json();
      expect(state).toMatchObject({ door: { state: 'locked' }, gallerySize: 0 });
      // The door's liveness level and the cues its weights use.
      expect(state.liveness).toMatchObject({ level: 'standard', spectrum: 'rgb', lastChallenge: null });
      expect(state.liveness.cues).toContain('screen_border');
      expect(state.match).toMatchObject({ threshold: 0.45, expectedFpir: null, targetFpir: 0.01, source: 'fallback', people: 0 });
      expect(state.models).toEqual(models);
      expect(state.models.feature).toEqual({ precision: suite.engine().precision.feature, provider: 'cpu' });
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
