/**
 * Audit outbox drain over a real broker: events recorded while the broker is down all reach the
 * gateway after it comes back, once each and in order, and only the gateway's acknowledgement
 * removes them from the device.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WireEvent } from '../../../core/sync/contract.ts';
import { sleep, startBroker, startTestDevice, TestGateway, type TestBroker, waitFor } from './fixtures.ts';

let broker: TestBroker;
let gw: TestGateway;
let cleanups: (() => unknown)[];

beforeEach(async () => {
  cleanups = [];
  broker = await startBroker();
  gw = new TestGateway(broker);
  await gw.connect();
});

afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  await gw.close();
  await broker.close();
});

const sentEvents = (): WireEvent[] => gw.of('audit').flatMap((r) => r.env.body.events as WireEvent[]);

describe('device sync: audit drain', () => {
  it('delivers 500 events recorded while the broker was down, in order, once each, and empties the outbox', async () => {
    const dev = await startTestDevice(gw, 'door-a', { cleanups });
    await waitFor(() => gw.deviceKeys.get('door-a'), 5000, 'hello');
    await broker.down();
    await waitFor(() => !dev.sync.status().connected, 5000, 'device to notice the broker is gone');
    for (let i = 0; i < 500; i++) dev.audit('decision', { n: i, granted: i % 2 === 0 });
    expect(dev.store.outbox.count()).toBe(500);
    await sleep(300);
    expect(sentEvents()).toEqual([]);

    await broker.up();
    await waitFor(() => gw.events.size === 500 && dev.store.outbox.count() === 0, 15_000, 'all 500 acknowledged');
    const ns = [...gw.events.values()].map((e) => (e.body as { n: number }).n);
    expect(ns).toEqual([...Array(500).keys()]);
    // Batches may go twice (the gateway coming back asks for a resend); first arrivals are in order.
    const firsts = [...new Set(sentEvents().map((e) => e.seq))];
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(firsts).toHaveLength(500);
    // Batches of the configured size (200).
    expect(new Set(gw.of('audit').map((r) => r.env.body.events.length))).toEqual(new Set([200, 100]));
    expect(dev.sync.status().outboxDepth).toBe(0);
  });

  it('keeps events until they are acknowledged, resends the same batch, and never drops what was not sent', async () => {
    gw.autoAck = false;
    const dev = await startTestDevice(gw, 'door-a', { cleanups, sync: { batchSize: 20, ackTimeoutMs: 300 } });
    await waitFor(() => gw.deviceKeys.get('door-a'), 5000, 'hello');
    await broker.down(); // recorded while away, so the first batch is a full one
    await waitFor(() => !dev.sync.status().connected, 5000, 'disconnected');
    for (let i = 0; i < 50; i++) dev.audit('decision', { n: i });
    await broker.up();
    await waitFor(() => gw.of('audit').length >= 3, 5000, 'two resends');
    const batches = gw.of('audit').map((r) => (r.env.body.events as WireEvent[]).map((e) => e.seq));
    expect(batches[0]).toHaveLength(20);
    for (const b of batches) expect(b).toEqual(batches[0]);
    expect(dev.store.outbox.count()).toBe(50);

    // An ack naming more than was sent removes only what was sent.
    await gw.send('door-a', 'ack', { upTo: 1_000_000, received: 20, duplicates: 0 });
    await waitFor(() => dev.store.outbox.count() === 30, 3000, 'first batch removed');
    const next = await waitFor(() => gw.of('audit').find((r) => r.env.body.events[0].seq === batches[0][19] + 1), 3000, 'next batch');
    expect(next.env.body.events).toHaveLength(20);
    expect(dev.store.outbox.peek(1)[0].seq).toBe(batches[0][19] + 1);
  });

  it('does not drain while the gateway is announced offline, and resumes when it is back', async () => {
    gw.autoAck = true;
    const dev = await startTestDevice(gw, 'door-a', { cleanups, sync: { ackTimeoutMs: 200 } });
    await waitFor(() => gw.deviceKeys.get('door-a'), 5000, 'hello');
    await gw.client.publishAsync('portier/v1/gateway/availability', 'offline', { qos: 1, retain: true });
    await waitFor(() => dev.sync.status().gatewayOnline === false, 3000, 'gateway offline seen');
    const before = gw.of('audit').length;
    dev.audit('decision', { n: 1 });
    await sleep(400);
    expect(gw.of('audit').length).toBe(before);
    const hellos = gw.of('hello').length;
    await gw.client.publishAsync('portier/v1/gateway/availability', 'online', { qos: 1, retain: true });
    await waitFor(() => dev.store.outbox.count() === 0, 3000, 'drained after the gateway came back');
    // Coming back it announces itself again (hello while not yet confirmed, status, sync).
    expect(gw.of('hello').length).toBeGreaterThan(hellos);
  });

  it('loses nothing when the gateway dies between storing a batch and acknowledging it: the batch goes again when it is back', async () => {
    const dev = await startTestDevice(gw, 'door-a', { cleanups, sync: { batchSize: 50, ackTimeoutMs: 60_000 } });
    await waitFor(() => gw.deviceKeys.get('door-a'), 5000, 'hello');
    const availability = (v: string) => gw.client.publishAsync('portier/v1/gateway/availability', v, { qos: 1, retain: true });
    await availability('offline');
    await waitFor(() => dev.sync.status().gatewayOnline === false, 3000, 'gateway offline seen');
    for (let i = 0; i < 120; i++) dev.audit('decision', { n: i });
    gw.dropAcks = 1;
    await availability('online');
    await waitFor(() => gw.events.size === 50, 5000, 'first batch stored');
    await sleep(300);
    expect(dev.store.outbox.count()).toBe(120); // stored at the gateway, but not acknowledged: still here
    // The gateway comes back (a live `online`, no `offline` seen in between).
    await availability('online');
    await waitFor(() => dev.store.outbox.count() === 0, 5000, 'drained');
    expect(gw.events.size).toBe(120);
    const ack = gw.of('audit').map((r) => r.env.body.events.length);
    expect(ack[0]).toBe(50);
    expect(ack[1]).toBe(50); // the same batch again
  });
});
