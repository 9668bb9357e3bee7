/**
 * The watchdog follows the daemon's health, not the camera: with a camera that never delivers a
 * frame, WATCHDOG=1 keeps going out, /health says what is wrong, and the exit button works.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDevice } from '../../device/daemon.ts';
import { pressExitButton } from '../../device/door/simulate.ts';
import type { SimulatedGpio } from '../../device/gpio/simulated.ts';
import { hasModels, skipReason } from '../helpers.ts';
import { deviceSuite, idleCamera, tempDir, testConfig, testKeyEnv } from './harness.ts';

describe.skipIf(skipReason(hasModels, 'models/ missing'))('watchdog without frames', () => {
  const suite = deviceSuite();

  it('keeps the watchdog fed, reports the camera in /health, and releases for the exit button', async () => {
    const d = suite.dir();
    const sent: string[][] = [];
    const config = testConfig(d, { ...idleCamera(d), systemd: { type: 'systemd-notify' }, http: { enabled: true, port: 0 } });
    // WATCHDOG_USEC 300 ms: the daemon must ping about every 150 ms or systemd would kill it.
    const env = { ...process.env, ...testKeyEnv, NOTIFY_SOCKET: '/run/fake-notify', WATCHDOG_USEC: '300000' };
    const device = await startDevice(config, { engine: suite.engine(), env, notifyTransport: { send: async (f) => void sent.push([...f]) } });
    await new Promise((r) => setTimeout(r, 3000));
    const pings = sent.filter((f) => f.includes('WATCHDOG=1')).length;
    // No frame was ever processed, yet the pings never stopped (3 s = 20 watchdog intervals).
    expect(pings).toBeGreaterThanOrEqual(10);
    const res = await fetch(`http://${device.http!.host}:${device.http!.port}/health`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/no_frame_yet|camera_/);
    const gpio = device.gpio as SimulatedGpio;
    pressExitButton(gpio, device.config.door);
    await new Promise((r) => setTimeout(r, 200));
    expect(gpio.outputHistory(device.config.door.relay.pin).some((h) => h.level === 1)).toBe(true);
    await device.stop();
  }, 30_000);

  describe('over 5 minutes of simulated time', () => {
    afterEach(() => vi.useRealTimers());

    it('never leaves a gap of WatchdogSec without a ping, and the exit button still releases', async () => {
      const d = suite.dir();
      const sent: { at: number; fields: string[] }[] = [];
      const config = testConfig(d, { ...idleCamera(d), systemd: { type: 'systemd-notify' } });
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
      // WatchdogSec=30s as in the unit; the camera delivers nothing the whole time.
      const env = { ...process.env, ...testKeyEnv, NOTIFY_SOCKET: '/run/fake-notify', WATCHDOG_USEC: '30000000' };
      const device = await startDevice(config, { engine: suite.engine(), env, notifyTransport: { send: async (f) => void sent.push({ at: Date.now(), fields: [...f] }) } });
      const t0 = Date.now();
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      const times = [t0, ...sent.filter((s) => s.fields.includes('WATCHDOG=1')).map((s) => s.at), Date.now()];
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      expect(times.length - 2).toBeGreaterThanOrEqual(10);
      expect(Math.max(...gaps)).toBeLessThan(30_000);
      const gpio = device.gpio as SimulatedGpio;
      pressExitButton(gpio, device.config.door);
      await vi.advanceTimersByTimeAsync(500);
      expect(gpio.outputHistory(device.config.door.relay.pin).map((h) => h.level)).toContain(1);
      vi.useRealTimers();
      await device.stop();
    }, 60_000);
  });
});

describe('start timeout while GPU engines are built', () => {
  // The engine is made from an empty model folder, so the start fails right after the request:
  // what matters is what was sent before VisionEngine.create.
  async function sentAtStart(executionProviders: ('cpu' | 'cuda' | 'tensorrt')[]): Promise<string[][]> {
    const t = tempDir();
    try {
      const sent: string[][] = [];
      const config = testConfig(t.dir, { systemd: { type: 'systemd-notify' }, vision: { modelDir: join(t.dir, 'no-models'), executionProviders } });
      const env = { ...process.env, ...testKeyEnv, NOTIFY_SOCKET: '/run/fake-notify' };
      await expect(startDevice(config, { env, notifyTransport: { send: async (f) => void sent.push([...f]) } })).rejects.toThrow();
      return sent;
    } finally {
      t.cleanup();
    }
  }

  it('asks systemd for more start time before a TensorRT or CUDA engine is made, not for cpu', async () => {
    const trt = await sentAtStart(['tensorrt', 'cuda', 'cpu']);
    expect(trt[0]).toEqual([expect.stringMatching(/^EXTEND_TIMEOUT_USEC=\d+$/)]);
    // Well beyond the unit's TimeoutStartSec=120s.
    expect(Number(trt[0][0].split('=')[1])).toBeGreaterThanOrEqual(10 * 60 * 1e6);
    expect((await sentAtStart(['cuda', 'cpu']))[0]?.[0]).toMatch(/^EXTEND_TIMEOUT_USEC=/);
    expect((await sentAtStart(['cpu'])).flat().filter((f) => f.startsWith('EXTEND_TIMEOUT_USEC'))).toEqual([]);
  });
});
