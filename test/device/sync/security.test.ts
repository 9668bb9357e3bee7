/**
 * The device refuses anything the pinned gateway key did not sign for it, now, once: over a real
 * broker, a forged / replayed / expired / misaddressed / unsealable message leaves the gallery,
 * the persons, the cursor and the relay untouched and records a `security` event.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DownBody } from '../../../core/sync/contract.ts';
import { generateKeySet, publicKeys } from '../../../core/sync/keys.ts';
import { sealEmbedding } from '../../../core/sync/seal.ts';
import type { Rejection } from '../../../device/sync/security.ts';
import { embedding, sleep, startBroker, startTestDevice, TestGateway, type TestBroker, type TestDevice, waitFor } from './fixtures.ts';

let broker: TestBroker;
let gw: TestGateway;
let dev: TestDevice;
let cleanups: (() => unknown)[];
let rejections: Rejection[];

beforeEach(async () => {
  cleanups = [];
  broker = await startBroker();
  gw = new TestGateway(broker);
  gw.autoAck = false; // keep security events in the outbox where the test can see them
  await gw.connect();
  dev = await startTestDevice(gw, 'door-a', { cleanups });
  rejections = [];
  dev.sync.on('rejected', (r: Rejection) => rejections.push(r));
  await waitFor(() => gw.deviceKeys.get('door-a'), 5000, 'hello');
});

afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  await gw.close();
  await broker.close();
});

const sealFor = () => gw.deviceKeys.get('door-a')!.sealPublicKey;

function person(id: string, emb: Float32Array, seal = sealEmbedding(sealFor(), 'door-a', id, emb)) {
  return { id, name: id, active: true, validFrom: null, validUntil: null, groups: [], schedules: [], templates: [seal] };
}

function changes(over: Partial<DownBody<'changes'>> = {}): DownBody<'changes'> {
  return { tid: null, from: null, to: 1, head: 1, reset: false, more: false, people: [], deleted: [], groups: [], deletedGroups: [], ...over };
}

const applied = () => new Promise((r) => dev.sync.once('applied', r));

function expectUntouched(reason: string) {
  expect(rejections.map((r) => r.reason)).toContain(reason);
  expect(dev.gallery.has('mallory')).toBe(false);
  expect(dev.store.persons.get('mallory')).toBeUndefined();
  expect(dev.store.templates.list('mallory')).toEqual([]);
  expect(dev.store.settings.data.sync!.cursor).toBe(null);
  expect(dev.everUnlocked()).toBe(false);
  const ev = dev.securityEvents();
  expect(ev.map((e) => e.body.reason)).toContain(reason);
  expect(ev[0].body).toMatchObject({ device: 'door-a', topic: 'portier/v1/devices/door-a/down/changes' });
}

describe('device sync: register changes from the gateway', () => {
  it('applies a correctly signed page: the person is searchable with exactly the embedding that was sealed', async () => {
    const emb = embedding(1);
    const done = applied();
    const raw = await gw.send('door-a', 'changes', changes({ people: [person('alice', emb)], groups: [{ id: 'staff', name: 'Staff', schedules: [] }] }));
    await done;
    expect(dev.gallery.has('alice')).toBe(true);
    expect(Array.from(dev.store.templates.list('alice')[0])).toEqual(Array.from(emb));
    expect(dev.gallery.search(emb)!.personId).toBe('alice');
    expect(dev.gallery.search(emb)!.score).toBeGreaterThan(0.999);
    const s = dev.store.settings.data;
    expect(s.sync!.cursor).toBe(1);
    expect(s.syncCursor).toBe('1');
    expect(s.sync!.lastDownSeq).toBe(JSON.parse(raw).seq);
    expect(s.values.groups).toEqual({ staff: { schedules: [] } });
    // The gateway used our seal key, so it has our hello: the join digest is gone.
    expect(s.sync!.joinKey).toBe(null);
    expect(dev.securityEvents()).toEqual([]);
  });

  const forged: [string, string, () => string][] = [
    ['unsigned', 'unsigned', () => {
      const e = JSON.parse(gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] })));
      delete e.sig;
      return JSON.stringify(e);
    }],
    ['signed by another key', 'wrong_key', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] }), { keys: generateKeySet() })],
    ['signed by another key claiming the pinned key id', 'bad_signature', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] }), { keys: generateKeySet(), kid: gw.kid })],
    ['altered after signing', 'bad_signature', () => {
      const e = JSON.parse(gw.sign('door-a', 'changes', changes()));
      e.body.people = [person('mallory', embedding(9))];
      return JSON.stringify(e);
    }],
    ['expired', 'expired', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] }), { now: Date.now() - 11 * 60_000 })],
    ['issued in the future', 'expired', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] }), { now: Date.now() + 5 * 60_000 })],
    ['addressed to another device', 'not_for_me', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] }), { to: 'door-b' })],
    ['with a sequence not above the last accepted', 'replayed', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] }), { seq: dev.store.settings.data.sync!.lastDownSeq })],
    ['whose template is sealed to another device', 'unsealable', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9), sealEmbedding(publicKeys(generateKeySet()).sealPublicKey, 'door-a', 'mallory', embedding(9)))] }))],
    ['whose template was sealed for another person', 'unsealable', () => gw.sign('door-a', 'changes', changes({ people: [person('mallory', embedding(9), sealEmbedding(sealFor(), 'door-a', 'alice', embedding(9)))] }))],
    ['with a body outside the contract', 'invalid_body', () => gw.sign('door-a', 'changes', { ...changes({ people: [person('mallory', embedding(9))] }), to: -1 })],
  ];

  it.each(forged)('refuses a page %s and changes nothing', async (_name, reason, make) => {
    await gw.publish('door-a', 'changes', make());
    await waitFor(() => rejections.length > 0, 3000, 'rejection');
    expectUntouched(reason);
    expect(dev.sync.status().rejected[reason]).toBe(1);
  });

  it('refuses a replay of a page it already applied', async () => {
    let done = applied();
    const add = await gw.send('door-a', 'changes', changes({ people: [person('mallory', embedding(9))] }));
    await done;
    done = applied();
    await gw.send('door-a', 'changes', changes({ from: 1, to: 2, head: 2, deleted: ['mallory'] }));
    await done;
    expect(dev.gallery.has('mallory')).toBe(false);
    await gw.publish('door-a', 'changes', add); // captured earlier, sent again
    await waitFor(() => rejections.length > 0, 3000, 'rejection');
    expect(rejections[0].reason).toBe('replayed');
    expect(dev.gallery.has('mallory')).toBe(false);
    expect(dev.store.persons.get('mallory')).toBeUndefined();
    expect(dev.store.settings.data.sync!.cursor).toBe(2);
  });

  it('limits security events written to the outbox and counts the rest', async () => {
    const bad = JSON.stringify({ v: 1, body: {} });
    for (let i = 0; i < 25; i++) await gw.publish('door-a', 'notify', bad);
    await waitFor(() => (dev.sync.status().rejected.unsigned ?? 0) === 25, 3000, '25 rejections');
    expect(dev.securityEvents()).toHaveLength(10);
  });
});

describe('device sync: remote unlock', () => {
  const unlock = (tid: string) => ({ tid, command: 'unlock' as const, actor: 'admin@example', args: { reason: 'delivery' } });

  it.each([
    ['signed by another key', { keys: generateKeySet() }, 'wrong_key'],
    ['forged under the pinned key id', { keys: generateKeySet(), kid: 'PINNED' }, 'bad_signature'],
    ['expired', { now: Date.now() - 60_000 }, 'expired'],
    ['addressed to another device', { to: 'door-b' }, 'not_for_me'],
  ] as const)('never energises the relay for a command %s', async (_n, o, reason) => {
    const opts = 'kid' in o ? { ...o, kid: gw.kid } : o;
    await gw.publish('door-a', 'command', gw.sign('door-a', 'command', unlock('t1'), opts));
    await waitFor(() => rejections.length > 0, 3000, 'rejection');
    await sleep(100);
    expect(rejections[0].reason).toBe(reason);
    expect(dev.everUnlocked()).toBe(false);
    expect(gw.of('response')).toEqual([]);
    expect(dev.securityEvents()[0].body).toMatchObject({ reason, kind: 'command' });
  });

  it('releases the relay for a good command, records it first, answers, and never runs a tid twice', async () => {
    await gw.send('door-a', 'command', unlock('t-42'));
    await waitFor(() => dev.relayUnlocked(), 3000, 'relay released');
    const ev = dev.store.outbox.peek(1000).filter((e) => e.kind === 'door');
    expect(ev.map((e) => e.body)).toEqual([{ device: 'door-a', type: 'remote_unlock', actor: 'admin@example', reason: 'delivery', tid: 't-42' }]);
    const res = await waitFor(() => gw.of('response')[0], 3000, 'response');
    expect(res.env.body).toEqual({ tid: 't-42', ok: true });
    await waitFor(() => !dev.relayUnlocked(), 3000, 'relocked');
    // Same tid again, freshly signed (a gateway retry): answered, not executed.
    await gw.send('door-a', 'command', unlock('t-42'));
    await waitFor(() => gw.of('response').length === 2, 3000, 'second response');
    const opened = dev.gpio.outputHistory(dev.doorCfg.relay.pin).filter((h) => h.level === 1);
    expect(opened).toHaveLength(1);
    expect(dev.store.outbox.peek(1000).filter((e) => e.kind === 'door')).toHaveLength(1);
  });

  it('answers enrol-here with a clear error when no capture is wired', async () => {
    await gw.send('door-a', 'command', { tid: 'e1', command: 'enrol-here', actor: 'admin', args: { personId: 'bob' } });
    const res = await waitFor(() => gw.of('response')[0], 3000, 'response');
    expect(res.env.body).toMatchObject({ tid: 'e1', ok: false });
    expect(res.env.body.error).toMatch(/not available/);
  });
});
