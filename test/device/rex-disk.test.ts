/**
 * The way out never depends on the disk: with the audit store refusing every write (full or
 * read-only), the exit button still releases the lock at once; its record waits in memory,
 * shows in /metrics and /health, and reaches the outbox once the disk takes writes again.
 */
import { describe, expect, it } from 'vitest';
import { pressExitButton } from '../../device/door/simulate.ts';
import type { SimulatedGpio } from '../../device/gpio/simulated.ts';
import { StoreFullError } from '../../device/store/outbox.ts';
import { hasModels, skipReason } from '../helpers.ts';
import { deviceSuite, idleCamera, runDevice, testConfig } from './harness.ts';

const until = async (what: string, fn: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(skipReason(hasModels, 'models/ missing'))('exit button with a refusing disk', () => {
  const suite = deviceSuite();

  for (const failure of ['full', 'read-only'] as const) {
    it(`releases at once with the disk ${failure}, keeps the record and writes it later`, async () => {
      const d = suite.dir();
      const device = await runDevice(testConfig(d, { ...idleCamera(d), http: { enabled: true, port: 0 } }), suite.engine());
      const gpio = device.gpio as SimulatedGpio;
      const pin = device.config.door.relay.pin;
      const append = device.store.outbox.append.bind(device.store.outbox);
      const refuse = () => {
        if (failure === 'full') throw new StoreFullError('audit outbox append', Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
        throw Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
      };
      device.store.outbox.append = refuse;
      const before = device.store.outbox.count();
      const t0 = Date.now();
      pressExitButton(gpio, device.config.door);
      await until('the relay released', () => gpio.outputHistory(pin).some((h) => h.level === 1), 2000);
      expect(Date.now() - t0).toBeLessThan(500);
      expect(device.store.outbox.count()).toBe(before);
      const metrics = await device.metrics.registry.metrics();
      expect(metrics).toMatch(/portier_audit_backlog [1-9]/);
      const health = (await (await fetch(`http://${device.http!.host}:${device.http!.port}/health`)).json()) as { warnings?: string[] };
      expect(health.warnings).toContain('audit_backlog');
      // The disk comes back: the kept records (rex, unlocked, ...) reach the outbox in order.
      device.store.outbox.append = append;
      await until('the backlog written', () => device.store.outbox.count() > before, 8000);
      const kinds = device.store.outbox.peek(100).map((e) => (e.body as { type?: string }).type);
      expect(kinds.slice(0, 2)).toEqual(['rex', 'unlocked']);
      await device.stop();
    }, 30_000);
  }

  it('releases before any record is written, even when the disk blocks for a second and a half', async () => {
    const d = suite.dir();
    const device = await runDevice(testConfig(d, idleCamera(d)), suite.engine());
    const gpio = device.gpio as SimulatedGpio;
    const pin = device.config.door.relay.pin;
    const append = device.store.outbox.append.bind(device.store.outbox);
    const relayAtWrite: number[] = [];
    // A stalling SD card: every write takes 1.5 s of the process's time.
    device.store.outbox.append = (e) => {
      relayAtWrite.push(gpio.outputLevel(pin) ?? -1);
      const until = Date.now() + 1500;
      while (Date.now() < until);
      return append(e);
    };
    pressExitButton(gpio, device.config.door);
    await until('the rex record written', () => device.store.outbox.peek(100).some((e) => (e.body as { type?: string }).type === 'rex'), 10_000);
    // The relay was already released when the first record (the press) started writing.
    expect(relayAtWrite[0]).toBe(1);
    device.store.outbox.append = append;
    await device.stop();
  }, 30_000);
});
