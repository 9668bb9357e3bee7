/**
 * The sync client's conversation with a gateway over a real broker: paging the register from its
 * cursor, notify, snapshots, resync, status and availability, the outbox cap, enrol-here, and
 * what never goes on the wire (private keys, broker password, join secret, clear templates).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownBody } from '../../../core/sync/contract.ts';
import { readKeySetFile } from '../../../core/sync/keys.ts';
import { openEmbedding, sealEmbedding } from '../../../core/sync/seal.ts';
import { normalizeInto, quantizeInto } from '../../../device/gallery/quantize.ts';
import { startSync } from '../../../device/sync/client.ts';
import { DIM, embedding, sleep, startBroker, startTestDevice, TestGateway, type TestBroker, waitFor } from './fixtures.ts';

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

const person = (id: string, emb: Float32Array, groups: string[] = []) => ({
  id,
  name: id.toUpperCase(),
  active: true,
  validFrom: null,
  validUntil: null,
  groups,
  schedules: [],
  templates: [sealEmbedding(gw.deviceKeys.get('door-a')!.sealPublicKey, 'door-a', id, emb)],
});

const page = (tid: string | null, over: Partial<DownBody<'changes'>>): DownBody<'changes'> => ({
  tid, from: null, to: 1, head: 1, reset: false, more: false, people: [], deleted: [], groups: [], deletedGroups: [], ...over,
});

describe('device sync: register', () => {
  it('pages from its cursor, follows notify, applies a snapshot reset, and resyncs on command', async () => {
    const requests: (number | null)[] = [];
    const pages = new Map<number | null, (tid: string) => DownBody<'changes'>>([
      [null, (tid) => page(tid, { from: null, to: 5, head: 8, more: true, people: [person('alice', embedding(1), ['staff'])], groups: [{ id: 'staff', name: 'Staff', schedules: [] }] })],
      [5, (tid) => page(tid, { from: 5, to: 8, head: 8, people: [person('bob', embedding(2))], groups: [{ id: 'night', name: 'Night', schedules: [{ door: '*', days: ['mon'], from: '22:00', to: '06:00' }] }] })],
      [8, (tid) => page(tid, { from: 8, to: 9, head: 9, reset: true, keep: ['bob'], keepGroups: ['night'], people: [], policy: { door: 'front', name: 'Front door' } })],
    ]);
    gw.onSync = (id, b) => {
      requests.push(b.cursor);
      const p = pages.get(b.cursor);
      if (p) void gw.send(id, 'changes', p(b.tid));
    };
    const dev = await startTestDevice(gw, 'door-a', { cleanups });
    await waitFor(() => dev.store.settings.data.sync!.cursor === 8, 5000, 'cursor 8');
    expect(requests).toEqual([null, 5]);
    expect(dev.gallery.has('alice') && dev.gallery.has('bob')).toBe(true);
    expect(dev.store.persons.get('alice')).toMatchObject({ name: 'ALICE', groups: ['staff'] });
    expect(Object.keys(dev.store.settings.data.values.groups as object).sort()).toEqual(['night', 'staff']);

    await gw.send('door-a', 'notify', { head: 8 });
    await sleep(200);
    expect(requests).toEqual([null, 5]);

    // A late duplicate of an old page must not move the cursor back.
    await gw.send('door-a', 'changes', page(null, { from: 5, to: 8, head: 8, people: [person('carol', embedding(3))] }));
    await sleep(200);
    expect(dev.gallery.has('carol')).toBe(false);

    await gw.send('door-a', 'notify', { head: 9 });
    await waitFor(() => dev.store.settings.data.sync!.cursor === 9, 3000, 'cursor 9');
    expect(dev.gallery.has('alice')).toBe(false);
    expect(dev.store.persons.get('alice')).toBeUndefined();
    expect(dev.gallery.has('bob')).toBe(true);
    expect(dev.store.settings.data.values.groups).toEqual({ night: { schedules: [{ door: '*', days: ['mon'], from: '22:00', to: '06:00' }] } });
    expect(dev.store.settings.data.values.policy).toEqual({ door: 'front', name: 'Front door' });

    await gw.send('door-a', 'command', { tid: 'r1', command: 'resync', actor: 'admin', args: {} });
    await waitFor(() => requests.length === 4, 3000, 'snapshot request');
    expect(requests[3]).toBe(null);
    expect((await waitFor(() => gw.of('response')[0], 3000, 'response')).env.body).toEqual({ tid: 'r1', ok: true });
  });
});

describe('device sync: availability, status and the outbox cap', () => {
  it('publishes a retained status and availability, and an explicit retained offline on stop', async () => {
    const connected: boolean[] = [];
    const dev = await startTestDevice(gw, 'door-a', { cleanups, deps: { metrics: { connected: (v) => connected.push(v) } } });
    const st = await waitFor(() => gw.of('status')[0], 5000, 'status');
    expect(st.env.body).toMatchObject({ door: { id: 'front', state: 'locked' }, gallerySize: 0, outboxDepth: 0, outboxCap: 1_000_000, cursor: null, securityRejections: 0 });
    expect(connected).toContain(true);
    await dev.stop();
    const watcher = mqtt.connect(broker.url, { username: 'gateway', password: 'gateway-pw', clientId: 'watcher' });
    cleanups.push(() => watcher.endAsync(true));
    const got = new Map<string, string>();
    watcher.on('message', (t, p) => got.set(t, p.toString()));
    await new Promise((r) => watcher.once('connect', r));
    await watcher.subscribeAsync(['portier/v1/devices/door-a/availability', 'portier/v1/devices/door-a/up/status']);
    await waitFor(() => got.size === 2, 3000, 'retained messages');
    expect(got.get('portier/v1/devices/door-a/availability')).toBe('offline');
    expect(JSON.parse(got.get('portier/v1/devices/door-a/up/status')!).type).toBe('status');
    expect(connected.at(-1)).toBe(false);
  });

  it('warns near the cap, keeps every event past it, and clears when acknowledged', async () => {
    gw.autoAck = false;
    const near: boolean[] = [];
    const dev = await startTestDevice(gw, 'door-a', { cleanups, sync: { outboxCap: 10, outboxWarnFraction: 0.5 }, deps: { metrics: { nearCap: (v) => near.push(v) } } });
    await waitFor(() => gw.deviceKeys.get('door-a'), 5000, 'hello');
    for (let i = 0; i < 4; i++) dev.audit('decision', { i });
    expect(dev.sync.status().outboxNearCap).toBe(false);
    dev.audit('decision', { i: 4 });
    expect(dev.sync.status().outboxNearCap).toBe(true);
    for (let i = 5; i < 25; i++) dev.audit('decision', { i });
    expect(dev.store.outbox.count()).toBe(25);
    expect(dev.sync.status()).toMatchObject({ outboxNearCap: true, outboxFull: true, outboxDepth: 25 });
    expect(near).toEqual([true]);
    gw.autoAck = true;
    await waitFor(() => dev.store.outbox.count() === 0, 5000, 'drained');
    expect(dev.sync.status().outboxNearCap).toBe(false);
    expect(near).toEqual([true, false]);
  });
});

describe('device sync: secrets stay on the device', () => {
  it('enrol-here seals the template to the gateway; no private key, password, join secret or clear template is ever published', async () => {
    const captured = embedding(5);
    const alice = embedding(6);
    gw.onSync = (id, b) => void gw.send(id, 'changes', page(b.tid, { from: b.cursor, to: 1, head: 1, people: [person('alice', alice)] }));
    const dev = await startTestDevice(gw, 'door-a', {
      cleanups,
      deps: { captureEnrolment: async () => ({ embedding: captured, live: 0.97, quality: 0.9 }) },
    });
    await waitFor(() => dev.gallery.has('alice'), 5000, 'alice synced');
    dev.audit('decision', { personId: 'alice', granted: true });
    await gw.send('door-a', 'command', { tid: 'e1', command: 'enrol-here', actor: 'admin', args: { personId: 'bob', timeoutMs: 1000 } });
    const res = await waitFor(() => gw.of('response')[0], 3000, 'response');
    expect(res.env.body).toMatchObject({ tid: 'e1', ok: true, result: { live: 0.97, quality: 0.9 } });
    const opened = openEmbedding(gw.keys.seal.privateKey, 'gateway', 'bob', res.env.body.result.template);
    expect(Array.from(opened)).toEqual(Array.from(captured));
    await waitFor(() => dev.store.outbox.count() === 0, 3000, 'drained');

    const keys = readKeySetFile(join(dev.dir, dev.config.keyFile));
    const secrets: [string, Buffer][] = [];
    for (const [name, k] of [['sign', keys.sign.privateKey], ['seal', keys.seal.privateKey]] as const) {
      const der = k.export({ format: 'der', type: 'pkcs8' });
      const d = k.export({ format: 'jwk' }).d!;
      secrets.push([`${name} pkcs8`, der], [`${name} pkcs8 b64`, Buffer.from(der.toString('base64'))], [`${name} raw`, Buffer.from(d, 'base64url')], [`${name} raw b64url`, Buffer.from(d)], [`${name} raw b64`, Buffer.from(Buffer.from(d, 'base64url').toString('base64'))]);
    }
    const password = readFileSync(join(dev.dir, dev.config.secretFile), 'utf8').trim();
    secrets.push(['broker password', Buffer.from(password)]);
    secrets.push(['join key', Buffer.from(gw.joinKeys.get('door-a')!)]);
    for (const [name, e] of [['captured', captured], ['alice', alice]] as const) {
      const f32 = Buffer.from(e.buffer, e.byteOffset, e.byteLength);
      const n = new Float32Array(DIM);
      normalizeInto(e, n);
      const i8 = new Int8Array(DIM);
      quantizeInto(n, i8);
      for (const [enc, bytes] of [['f32', f32], ['f32 normalised', Buffer.from(n.buffer)], ['int8', Buffer.from(i8.buffer)]] as const) {
        secrets.push([`${name} ${enc}`, bytes], [`${name} ${enc} b64`, Buffer.from(bytes.toString('base64'))], [`${name} ${enc} b64url`, Buffer.from(bytes.toString('base64url'))]);
      }
      secrets.push([`${name} json`, Buffer.from(JSON.stringify(Array.from(e)).slice(1, 60))]);
    }
    // Everything the broker carried (as a `#` subscriber with admin rights would see it).
    expect(broker.seen.length).toBeGreaterThan(5);
    const kinds = new Set(broker.seen.map((m) => m.topic.split('/').pop()));
    for (const k of ['hello', 'status', 'audit', 'sync', 'response', 'changes', 'availability']) expect(kinds).toContain(k);
    const leaks = broker.seen.flatMap((m) => secrets.filter(([, s]) => m.payload.includes(s)).map(([n]) => `${n} in ${m.topic}`));
    expect(leaks).toEqual([]);
    // The scan is able to find what it looks for.
    expect(secrets.some(([, s]) => Buffer.from(JSON.stringify({ x: s.toString('base64') })).includes(s.toString('base64')))).toBe(true);
  });
});

describe('device sync: start-up checks', () => {
  it('refuses to run under another device id than the one it joined as', async () => {
    const dev = await startTestDevice(gw, 'door-a', { cleanups });
    await expect(startSync({ config: dev.config, deviceId: 'door-b', store: dev.store, gallery: dev.gallery, door: dev.door, audit: () => {}, state: () => { throw new Error('unused'); } })).rejects.toThrow(/joined the gateway as "door-a"/);
  });
});
