/**
 * Frame-to-relay latency on the simulated camera: a scenario where the enrolled demo person
 * walks up again and again; each approach is one grant, and the latency runs from the capture
 * of the frame that completed the vote to the relay being energised (audit event durable first).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../core/config/load.ts';
import { percentile, round2 } from '../eval/stats.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { deviceConfigSchema } from '../../device/config.ts';
import { startDevice } from '../../device/daemon.ts';
import { enrolPerson } from '../../device/enrol.ts';
import type { DecisionEvent } from '../../device/recognition/loop.ts';

const root = resolve(import.meta.dirname, '../..');

export interface FrameToRelayBench {
  frame_to_relay_p50_ms: number;
  frame_to_relay_p95_ms: number;
  grants: number;
}

export async function benchFrameToRelay(engine: VisionEngine, approaches = 15): Promise<FrameToRelayBench> {
  const dir = mkdtempSync(join(tmpdir(), 'portier-bench-'));
  try {
    const photo = readFileSync(join(root, 'test/fixtures/grace_hopper.jpg'));
    mkdirSync(join(dir, 'enrolled'));
    writeFileSync(join(dir, 'enrolled/1.jpg'), photo);
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify([{ clip: 'enrolled', seconds: 1.2 }, { idle: 0.5 }]));
    const config = parseConfig(deviceConfigSchema, {
      vision: { ...engine.config },
      store: { dir, templateKey: { type: 'env' }, integrityCheck: false },
      camera: { type: 'simulated', fps: 15, simulated: { source: join(dir, 'scenario.json'), loop: true } },
      recognition: { trackTimeoutMs: 300 },
      // From the deciding frame to the relay; liveness adds its approach time (liveness.attemptMs)
      // by design, and its per-frame cost is benched on its own (pad).
      liveness: { level: 'off' },
      gpio: { type: 'simulated' },
      http: { enabled: false },
      systemd: { type: 'none' },
      gallery: { maxTemplates: 1000 },
      door: { unlockMs: 500 },
    });
    const env = { ...process.env, PORTIER_TEMPLATE_KEY: randomBytes(32).toString('base64') };
    const device = await startDevice(config, { engine, env });
    const latencies: number[] = [];
    try {
      await enrolPerson(device, { id: 'demo', name: 'Demo', active: true, validFrom: null, validUntil: null, groups: [], schedules: [{ door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] }, [{ label: 'demo', data: photo }]);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, approaches * 5000);
        device.on('decision', (d: DecisionEvent) => {
          if (d.granted && d.latencyMs !== undefined) latencies.push(d.latencyMs);
          if (latencies.length >= approaches) {
            clearTimeout(timer);
            done();
          }
        });
      });
    } finally {
      await device.stop();
    }
    return { frame_to_relay_p50_ms: round2(percentile(latencies, 50)), frame_to_relay_p95_ms: round2(percentile(latencies, 95)), grants: latencies.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
