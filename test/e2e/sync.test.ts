/**
 * The whole system on loopback: a gateway (embedded broker, HTTP API) and two simulated devices
 * joined through the API. A person enrolled from a photo over HTTP reaches both galleries
 * within 2 s, their face opens a door, the decision lands in the gateway's audit log once, and
 * nobody with broker access can open a door, replay a command or read a template.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY, topics } from '../../core/sync/contract.ts';
import { keyId, signEnvelope } from '../../core/sync/envelope.ts';
import { generateKeySet, readKeySetFile } from '../../core/sync/keys.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { quantizeInto } from '../../device/gallery/quantize.ts';
import { secondModelPresent } from '../../device/gallery/second-model.ts';
import type { SimulatedGpio } from '../../device/gpio/simulated.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { fixture, hasModels, makeEngine, repoRoot, skipReason } from '../helpers.ts';
import { ALL_WEEK, ApiClient, startJoinedDevice, startTestGateway, tempDir, waitFor, type JoinedDevice } from './helpers.ts';

const ADMIN = { username: 'broker-admin', password: 'broker-admin-password-1234' };

describe.skipIf(skipReason(hasModels, 'models/ missing'))('gateway + two devices over MQTT', () => {
  let engine: VisionEngine;
  let gw: Gateway;
  let api: ApiClient;
  let a: JoinedDevice;
  let b: JoinedDevice;
  let spy: MqttClient;
  const seen: { topic: string; payload: Buffer }[] = [];
  const cleanups: (() => void)[] = [];
  const dir = (p: string) => {
    const t = tempDir(p);
    cleanups.push(t.cleanup);
    return t.dir;
  };

  beforeAll(async () => {
    engine = await makeEngine();
    gw = await startTestGateway(dir('portier-gw-'), engine, { broker: { host: '127.0.0.1', port: 0, adminUsername: ADMIN.username, adminPassword: ADMIN.password } });
    api = new ApiClient(gw.http.url);
    await api.setup(gw.auth.setupToken()!);
    expect((await api.call('POST', '/api/doors', { id: 'front', name: 'Front door' })).status).toBe(201);
    expect((await api.call('POST', '/api/doors', { id: 'lab', name: 'Lab' })).status).toBe(201);
    // Someone with every right on the broker watches every message from the start.
    spy = mqtt.connect(gw.brokerUrl, { username: ADMIN.username, password: ADMIN.password, clientId: 'spy', reconnectPeriod: 0 });
    await new Promise<void>((res, rej) => (spy.once('connect', () => res()), spy.once('error', rej)));
    await spy.subscribeAsync('#', { qos: 1 });
    spy.on('message', (topic, payload) => seen.push({ topic, payload: Buffer.from(payload) }));
    a = await startJoinedDevice(api, engine, { id: 'door-a', door: 'front', dir: dir('portier-a-') });
    b = await startJoinedDevice(api, engine, { id: 'door-b', door: 'lab', dir: dir('portier-b-') });
    await waitFor('both devices joined', () => gw.store.devices.get('door-a')?.signPublicKey && gw.store.devices.get('door-b')?.signPublicKey);
    // Each new device gets a snapshot first; its confirmation clears the flag.
    await waitFor('first snapshots confirmed', () => !gw.store.devices.get('door-a')!.snapshotRequired && !gw.store.devices.get('door-b')!.snapshotRequired);
  }, 120_000);

  afterAll(async () => {
    await spy?.endAsync();
    await a?.device.stop();
    await b?.device.stop();
    await gw?.stop();
    await engine?.close();
    cleanups.forEach((c) => c());
  });

  const relayPulses = (d: JoinedDevice) => (d.device.gpio as SimulatedGpio).outputHistory(d.device.config.door.relay.pin).filter((h) => h.level === 1).length;

  it('enrols over HTTP, reaches both galleries within 2 s, opens a door, and logs the decision exactly once', async () => {
    const created = await api.call('POST', '/api/people', { id: 'grace', name: 'Grace Hopper', schedules: ALL_WEEK });
    expect(created.status).toBe(201);
    const photo = readFileSync(fixture('grace_hopper.jpg'));
    const t0 = Date.now();
    const enrol = await api.call('POST', '/api/people/grace/photos', { photos: [{ name: 'grace.jpg', data: photo.toString('base64') }] });
    expect(enrol.status).toBe(200);
    expect(enrol.body.photos[0]).toMatchObject({ accepted: true, faces: 1 });
    await waitFor('grace in both galleries', () => a.device.gallery.has('grace') && b.device.gallery.has('grace'), 2000, 5);
    const reachMs = Date.now() - t0;
    console.log(`enrolment reached both devices ${reachMs} ms after the upload answered`);
    expect(reachMs).toBeLessThan(2000);
    // With the second model installed the gateway enrols its template too, and both doors hold it.
    if (secondModelPresent(join(repoRoot, 'models'))) {
      expect(gw.store.templates.list('grace')[0].second).toHaveLength(192);
      expect(a.device.gallery.hasSecond('grace') && b.device.gallery.hasSecond('grace')).toBe(true);
      expect(a.device.store.templates.listSecond('grace')).toHaveLength(1);
    }

    const before = relayPulses(a);
    const granted = new Promise((res) => a.device.on('decision', (d) => d.granted && d.personId === 'grace' && res(d)));
    await Promise.race([a.camera.play(photo, 40, 10), granted]);
    await waitFor('a grant for grace', () => granted, 10_000);
    expect(relayPulses(a)).toBeGreaterThan(before);
    await waitFor('outbox drained', () => a.device.store.outbox.count() === 0, 10_000);
    // The drain may have resent a batch; the gateway still has the decision once.
    const rows = gw.store.audit.search({ deviceId: 'door-a', kind: 'decision', personId: 'grace', decision: 'granted', limit: 100 }).items;
    expect(rows).toHaveLength(1);
    expect(rows[0].door).toBe('front');
  }, 60_000);

  it('remote unlock through the API reaches the relay and is recorded with who and why', async () => {
    const before = relayPulses(b);
    const r = await api.call('POST', '/api/devices/door-b/unlock', { reason: 'courier at the lab' });
    expect(r.status).toBe(200);
    await waitFor('relay released', () => relayPulses(b) > before, 5000);
    const admin = gw.store.audit.search({ kind: 'admin', reason: 'device.unlock', limit: 10 }).items;
    expect(admin[0]).toMatchObject({ actor: 'admin', target: 'door-b' });
    expect(JSON.stringify(admin[0].body)).toContain('courier at the lab');
  }, 30_000);

  it('refuses commands and register changes not signed by the pinned gateway key, replayed or expired', async () => {
    const cmdTopic = topics.down('door-a', 'command');
    const captured = seen.filter((m) => m.topic === topics.down('door-b', 'command')).at(-1);
    expect(captured, 'the spy saw the real unlock command').toBeDefined();
    const forger = generateKeySet();
    const rogue = (o: { key?: typeof forger; exp?: number; seq?: number; to?: string; body?: unknown; type?: string }) =>
      JSON.stringify(
        signEnvelope({
          type: o.type ?? 'command',
          from: GATEWAY,
          to: o.to ?? 'door-a',
          seq: o.seq ?? Date.now() * 1000 + 999_999,
          body: o.body ?? { tid: `t-${Math.random()}`, command: 'unlock', actor: 'mallory', args: { reason: 'let me in' } },
          privateKey: (o.key ?? forger).sign.privateKey,
          kid: keyId((o.key ?? forger).sign.publicKey),
          ttlMs: 30_000,
          now: o.exp !== undefined ? o.exp - 30_000 : Date.now(),
        }),
      );
    const pulsesA = relayPulses(a);
    const pulsesB = relayPulses(b);
    const galleryA = a.device.gallery.personCount;
    const unsigned = JSON.parse(rogue({}));
    delete unsigned.sig;
    const attempts = [
      JSON.stringify(unsigned), // no signature
      rogue({}), // signed by another key
      JSON.stringify({ ...JSON.parse(rogue({})), kid: keyId(gw.keys.sign.publicKey) }), // claims the gateway's key id
      rogue({ key: gw.keys, exp: Date.now() - 60_000 }), // the gateway's own key, but expired
      rogue({ key: gw.keys, seq: 1 }), // the gateway's own key, sequence long used
    ];
    for (const p of attempts) await spy.publishAsync(cmdTopic, p, { qos: 1 });
    // The real unlock for door-b, replayed to door-b, and retargeted at door-a.
    await spy.publishAsync(topics.down('door-b', 'command'), captured!.payload, { qos: 1 });
    await spy.publishAsync(cmdTopic, captured!.payload, { qos: 1 });
    // A register change adding a stranger, signed by the wrong key.
    await spy.publishAsync(
      topics.down('door-a', 'changes'),
      rogue({ type: 'changes', body: { tid: null, from: a.device.store.settings.data.sync!.cursor, to: 999, head: 999, reset: false, more: false, people: [{ id: 'mallory', name: 'M', active: true, validFrom: null, validUntil: null, groups: [], schedules: ALL_WEEK, templates: [] }], deleted: ['grace'], groups: [], deletedGroups: [] } }),
      { qos: 1 },
    );
    await waitFor('device A recorded the rejections', () => securityReasons(gw, a).length >= 7, 10_000);
    await waitFor('device B recorded the replay', () => securityReasons(gw, b).length >= 1, 10_000);
    expect(relayPulses(a)).toBe(pulsesA);
    expect(relayPulses(b)).toBe(pulsesB);
    expect(a.device.gallery.personCount).toBe(galleryA);
    expect(a.device.gallery.has('grace')).toBe(true);
    expect(a.device.gallery.has('mallory')).toBe(false);
    const reasons = securityReasons(gw, a).join(' ');
    for (const r of ['unsigned', 'wrong_key', 'bad_signature', 'expired', 'replayed', 'not_for_me']) expect(reasons).toContain(r);
    expect(securityReasons(gw, b).join(' ')).toContain('replayed');
  }, 30_000);

  it('enrols at the door: a live capture at device A, sealed to the gateway, becomes a template', async () => {
    expect((await api.call('POST', '/api/people', { id: 'eileen', name: 'Eileen Collins', schedules: [{ ...ALL_WEEK[0], door: 'lab' }] })).status).toBe(201);
    const portrait = await sharp(readFileSync(fixture('astronaut_eileen_collins.png'))).jpeg().toBuffer();
    let decisions = 0;
    const count = () => decisions++;
    a.device.on('decision', count);
    let feeding = true;
    const feed = (async () => {
      while (feeding) await a.camera.play(portrait, 1, 10);
    })();
    const r = await api.call('POST', '/api/devices/door-a/enrol-here', { personId: 'eileen' });
    feeding = false;
    await feed;
    a.device.off('decision', count);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.result).toMatchObject({ accepted: true });
    expect(r.body.result.live).toBeGreaterThan(0);
    // Frames were lent to the capture: the access pipeline decided nothing meanwhile.
    expect(decisions).toBe(0);
    expect(gw.store.templates.meta('eileen').map((t) => t.source)).toEqual(['enrol-here']);
    // Need to know: her schedule is for the lab, so door-b gets her and door-a does not.
    await waitFor('eileen at the lab door', () => b.device.gallery.has('eileen'), 3000);
    expect(a.device.gallery.has('eileen')).toBe(false);
    // No capture is ever published unsealed.
    const responses = seen.filter((m) => m.topic === topics.up('door-a', 'response'));
    expect(responses.some((m) => m.payload.includes('"template":{"epk"') || m.payload.includes('"epk"'))).toBe(true);
  }, 60_000);

  it('refuses audit events signed by another device than the one named in the topic', async () => {
    const keysA = readKeySetFile(join(a.dir, a.device.config.sync.keyFile));
    const event = { seq: 1, id: 'forged-event-1', ts: Date.now(), kind: 'decision', body: { granted: true, reason: 'granted', personId: 'grace', door: 'lab' } };
    const signedBy = (from: string) =>
      JSON.stringify(signEnvelope({ type: 'audit', from, to: GATEWAY, seq: Date.now() * 1000, body: { events: [event] }, privateKey: keysA.sign.privateKey, kid: keyId(keysA.sign.publicKey), ttlMs: 60_000 }));
    await spy.publishAsync(topics.up('door-b', 'audit'), signedBy('door-b'), { qos: 1 });
    await spy.publishAsync(topics.up('door-b', 'audit'), signedBy('door-a'), { qos: 1 });
    const gwRejections = () => gw.store.audit.search({ deviceId: 'door-b', kind: 'security', limit: 100 }).items.map((e) => (e.body as { reason: string; at?: string })).filter((b) => b.at === 'gateway');
    await waitFor('two rejections at the gateway', () => gwRejections().length >= 2, 5000);
    expect(gwRejections().map((b) => b.reason).sort()).toEqual(['rejected:not_for_me', 'rejected:wrong_key']);
    expect(gw.store.audit.search({ kind: 'decision', limit: 1000 }).items.some((e) => e.eventId === 'forged-event-1')).toBe(false);
  });

  it('lets nobody on the broker read a template: no payload carries the embedding in any encoding', async () => {
    const [t] = gw.store.templates.list('grace');
    const needles: Buffer[] = [];
    // The main template and, when enrolled, the second one.
    for (const e of [t.embedding, ...(t.second ? [t.second] : [])]) {
      const f32 = Buffer.from(e.buffer, e.byteOffset, e.byteLength);
      const norm = new Float32Array(e.length);
      let ss = 0;
      for (const v of e) ss += v * v;
      for (let i = 0; i < norm.length; i++) norm[i] = e[i] / Math.sqrt(ss);
      const q = new Int8Array(norm.length);
      quantizeInto(norm, q);
      const i8 = Buffer.from(q.buffer);
      for (const raw of [f32, Buffer.from(norm.buffer), i8]) {
        needles.push(raw.subarray(0, 24));
        for (const k of [0, 3, 6]) {
          const part = raw.subarray(k, k + 24);
          needles.push(Buffer.from(part.toString('base64')), Buffer.from(part.toString('base64url')), Buffer.from(part.toString('hex')));
        }
      }
      // Decimal renderings of the first values, as a JSON array of floats would show them.
      for (const v of [...e.subarray(0, 3), ...norm.subarray(0, 3)]) needles.push(Buffer.from(v.toFixed(5)));
    }
    const templatesSeen = seen.filter((m) => m.topic.endsWith('/down/changes') && m.payload.includes('"templates":[{'));
    expect(templatesSeen.length, 'changes with sealed templates did cross the broker').toBeGreaterThan(0);
    for (const m of seen) for (const n of needles) expect(m.payload.includes(n), `${m.topic} leaks template bytes`).toBe(false);
  });

  it('keeps the API shut to unauthenticated calls and cross-site form posts', async () => {
    const anon = new ApiClient(gw.http.url);
    expect((await anon.call('GET', '/api/people')).status).toBe(401);
    expect((await anon.call('POST', '/api/devices/door-a/unlock', { reason: 'x' })).status).toBe(401);
    // A form on another site posting with the admin's cookie (as if SameSite were ignored).
    const cookieOf = (api as unknown as { cookie: string }).cookie;
    const form = await fetch(`${gw.http.url}/api/devices/door-a/unlock`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieOf, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      body: 'reason=pwned',
    });
    expect([403, 415]).toContain(form.status);
    const json = await fetch(`${gw.http.url}/api/devices/door-a/unlock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookieOf, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ reason: 'pwned' }),
    });
    expect(json.status).toBe(403);
    expect(gw.store.audit.search({ kind: 'admin', reason: 'device.unlock', limit: 10 }).items.some((e) => JSON.stringify(e.body).includes('pwned'))).toBe(false);
  });
});

/** Security events a device recorded: still in its outbox, or already delivered to the gateway. */
function securityReasons(gw: Gateway, d: JoinedDevice): string[] {
  const local = d.device.store.outbox.peek(10_000).filter((e) => e.kind === 'security').map((e) => e.id);
  const ids = new Set(local);
  const out = d.device.store.outbox.peek(10_000).filter((e) => e.kind === 'security').map((e) => (e.body as { reason: string }).reason);
  for (const e of gw.store.audit.search({ deviceId: d.device.config.deviceId, kind: 'security', limit: 1000 }).items) {
    const body = e.body as { reason?: string; at?: string };
    if (body.at === 'gateway' || ids.has(e.eventId)) continue;
    out.push(String(body.reason));
  }
  return out;
}
