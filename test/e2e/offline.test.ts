/**
 * Offline and crash durability of the audit path (issue 7, acceptance 3), real MQTT over TCP on
 * loopback with the gateway's embedded broker on a fixed port:
 * - a device whose gateway is away keeps recording; after the gateway is back every event is in
 *   the gateway's audit log once, in order, and the device outbox is empty;
 * - the gateway as a child process is SIGKILLed in the middle of a drain, then stopped cleanly
 *   (broker restart) in the middle of the rest of it: nothing is lost, nothing stored twice. Only
 *   the gateway's acknowledgement may move the outbox forward: a device that drops events once
 *   the broker has PUBACKed them loses the batches in flight at the kill, and fails here
 *   (checked by breaking device/sync/drain.ts that way).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../gateway/gateway.ts';
import { deviceSuite } from '../device/harness.ts';
import { hasModels, skipReason } from '../helpers.ts';
import {
  appendDecisions,
  auditRowsFromFile,
  deviceAccepted,
  durableSync,
  freePort,
  gatewayConfig,
  gatewayInput,
  type AuditRow,
  provisionOffline,
  spawnGatewayChild,
  startGatewayChild,
  SLOW_WAIT_MS,
  stopGatewayChild,
  writeGatewayConfig,
  type GatewayChild,
} from './durability-helpers.ts';
import { startJoinedDevice, waitFor } from './helpers.ts';

const suite = deviceSuite();
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => {});
});

/** Every id exactly once among the device's events at the gateway, first arrivals in outbox order. */
function expectExactlyOnce(rows: AuditRow[], ids: string[]): void {
  const perId = new Map<string, number>();
  for (const r of rows) perId.set(r.event_id, (perId.get(r.event_id) ?? 0) + 1);
  const twice = [...perId].filter(([, n]) => n > 1);
  expect(twice, 'events stored more than once').toEqual([]);
  const missing = ids.filter((id) => !perId.has(id));
  expect(missing.length, `events lost (first: ${missing.slice(0, 3).join(', ')})`).toBe(0);
  const mine = new Set(ids);
  const decisions = rows.filter((r) => mine.has(r.event_id));
  expect(decisions.every((r) => r.kind === 'decision')).toBe(true);
  expect(decisions.map((r) => r.event_id)).toEqual(ids);
  // Arrival order follows the device's outbox order.
  const seqs = decisions.map((r) => r.seq!);
  expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true);
}

describe.skipIf(skipReason(hasModels, 'models/ missing (the device daemon needs them)'))('offline device and gateway crashes', () => {
  it('a device offline while 500 decisions happen delivers all 500 once after reconnect and empties its outbox', async () => {
    const dir = suite.dir();
    const port = await freePort();
    const config = gatewayConfig(join(dir, 'gateway'), port);
    let gw: Gateway = await startGateway(config, { engine: suite.engine() });
    cleanups.push(() => gw.stop());
    const { bundle } = await gw.provision('door-offline', { name: 'Offline door' });
    const { device } = await startJoinedDevice(null, suite.engine(), { id: 'door-offline', dir: join(dir, 'device'), provisioned: { bundle }, idleCamera: true, sync: durableSync });
    cleanups.push(() => device.stop());
    await waitFor('the gateway to accept the device', () => deviceAccepted(device) && gw.store.devices.get('door-offline')?.signPublicKey, SLOW_WAIT_MS);

    // The gateway and its broker go away; the device notices and keeps deciding.
    await gw.stop();
    await waitFor('the device to notice the broker is gone', () => !device.sync!.status().connected, SLOW_WAIT_MS);
    const before = device.store.outbox.count();
    const ids = appendDecisions(device, 500);
    expect(device.store.outbox.count()).toBe(before + 500);

    // Back on the same store and port: the device reconnects by itself and drains.
    gw = await startGateway(config, { engine: suite.engine() });
    const decisionsAtGateway = () => gw.store.audit.count({ deviceId: 'door-offline', kind: 'decision' });
    await waitFor('the outbox to drain into the gateway', () => decisionsAtGateway() >= 500 && device.store.outbox.count() === 0, SLOW_WAIT_MS);

    expect(decisionsAtGateway()).toBe(500);
    expect(device.store.outbox.count()).toBe(0);
    expect(device.store.outbox.peek(10)).toEqual([]);
    // Device first: stopping against a broker that is gone costs it its publish timeouts.
    await device.stop();
    await gw.stop();
    expectExactlyOnce(auditRowsFromFile(join(config.store.dir, config.store.databaseFile), 'door-offline'), ids);
  });

  it('a SIGKILL of the gateway mid-drain and a broker restart mid-drain lose nothing and store nothing twice', async () => {
    const dir = suite.dir();
    const port = await freePort();
    const gwDir = join(dir, 'gateway');
    const configFile = writeGatewayConfig(join(dir, 'gateway.json'), gatewayInput(gwDir, port));
    const config = gatewayConfig(gwDir, port);
    const bundle = await provisionOffline(config, 'door-crash');

    let gw: GatewayChild = await startGatewayChild(configFile);
    cleanups.push(() => stopGatewayChild(gw, 'SIGKILL'));
    // Small batches: the drain takes many acknowledged round trips, so a crash lands inside it.
    const { device } = await startJoinedDevice(null, suite.engine(), { id: 'door-crash', dir: join(dir, 'device'), provisioned: { bundle }, idleCamera: true, sync: { ...durableSync, batchSize: 50, ackTimeoutMs: 1000 } });
    cleanups.push(() => device.stop());
    await waitFor('the gateway child to accept the device', () => deviceAccepted(device), SLOW_WAIT_MS);
    await waitFor('start-up events to drain', () => device.store.outbox.count() === 0, SLOW_WAIT_MS);

    // Recorded while the gateway is up but before the device may send (it is one append loop).
    const total = 2000;
    const ids = appendDecisions(device, total);

    // Stop the gateway from inside the ack handler once the drain is well under way: the next
    // batch has just been published, so the stop hits a batch in flight. Registered before the
    // gateway (re)starts, so a fast drain cannot slip past it; `gw` is read when it fires.
    const stopAfter = (remaining: number, signal: NodeJS.Signals) =>
      new Promise<{ exited: Promise<string> }>((resolve) => {
        const onAck = () => {
          if (device.store.outbox.count() > remaining) return;
          device.sync!.off('acked', onAck);
          gw.child.kill(signal);
          resolve({ exited: gw.exited });
        };
        device.sync!.on('acked', onAck);
      });

    const kill = await stopAfter(total - 400, 'SIGKILL');
    expect(await kill.exited).toBe('SIGKILL');
    await waitFor('the device to lose the broker', () => !device.sync!.status().connected, SLOW_WAIT_MS);
    const afterKill = device.store.outbox.count();
    // The kill landed inside the drain: plenty of events were still waiting for their ack.
    expect(afterKill).toBeGreaterThan(400);

    // Restart, then a clean stop (the broker goes away with it) in the middle of the rest.
    gw = spawnGatewayChild(configFile);
    const term = stopAfter(afterKill - 400, 'SIGTERM');
    await gw.ready;
    const termed = await term;
    expect(await termed.exited).toBe('0');
    await waitFor('the device to lose the broker again', () => !device.sync!.status().connected, SLOW_WAIT_MS);
    expect(device.store.outbox.count()).toBeGreaterThan(0);

    gw = await startGatewayChild(configFile);
    await waitFor('the outbox to drain after the restarts', () => device.store.outbox.count() === 0, 45_000);
    expect(device.store.outbox.peek(10)).toEqual([]);
    await device.stop();
    expect(await stopGatewayChild(gw, 'SIGTERM')).toBe('0');

    expectExactlyOnce(auditRowsFromFile(join(gwDir, config.store.databaseFile), 'door-crash'), ids);
  }, 120_000);
});
