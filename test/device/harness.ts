/** Test harness for whole-device tests: a temp data folder, env-held key, shared engine. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/load.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { deviceConfigSchema, type DeviceConfig, type DeviceConfigInput } from '../../device/config.ts';
import { startDevice, type Device } from '../../device/daemon.ts';
import type { DecisionEvent } from '../../device/recognition/loop.ts';
import { afterAll, beforeAll } from 'vitest';
import { makeEngine, repoRoot } from '../helpers.ts';

export const testKeyEnv = { PORTIER_TEMPLATE_KEY: randomBytes(32).toString('base64') };

export function tempDir(prefix = 'portier-device-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fast, quiet device config on simulated hardware with data in `dir`. */
export function testConfig(dir: string, extra: DeviceConfigInput = {}): DeviceConfig {
  const base: DeviceConfigInput = {
    vision: { modelDir: join(repoRoot, 'models') },
    store: { dir, templateKey: { type: 'env' }, integrityCheck: false },
    gpio: { type: 'simulated' },
    http: { enabled: false },
    systemd: { type: 'none' },
    gallery: { maxTemplates: 10_000, kernel: { threads: 1 } },
  };
  const merged = deepMerge(base, extra);
  return parseConfig(deviceConfigSchema, merged);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export async function runDevice(config: DeviceConfig, engine: VisionEngine): Promise<Device> {
  return startDevice(config, { engine, env: { ...process.env, ...testKeyEnv } });
}

/** Collect decisions until the camera ends (loop: false) or the timeout passes. */
export async function collectDecisions(device: Device, timeoutMs: number): Promise<DecisionEvent[]> {
  const got: DecisionEvent[] = [];
  device.on('decision', (d: DecisionEvent) => got.push(d));
  await Promise.race([device.loop.finished(), new Promise((r) => setTimeout(r, timeoutMs))]);
  return got;
}

export const ALL_WEEK = [{ door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[], from: '00:00', to: '24:00' }];

/** One engine per test file and temp folders removed after it: the set-up every device suite needs. */
export function deviceSuite(): { engine: () => VisionEngine; dir: () => string } {
  let engine: VisionEngine | undefined;
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    engine = await makeEngine();
  });
  afterAll(async () => {
    await engine?.close();
    cleanups.forEach((c) => c());
  });
  return {
    engine: () => engine!,
    dir: () => {
      const t = tempDir();
      cleanups.push(t.cleanup);
      return t.dir;
    },
  };
}

/** Camera config for a scenario with nobody at the door (tests drive frames themselves). */
export function idleCamera(dir: string, seconds = 30, loop = false): DeviceConfigInput {
  const source = join(dir, 'idle.json');
  writeFileSync(source, JSON.stringify([{ idle: seconds }]));
  return { camera: { type: 'simulated', simulated: { source, loop } } };
}
