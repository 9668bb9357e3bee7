/**
 * The embedded broker over real TCP on loopback with mqtt.js clients: authentication, client-id
 * binding, the topic ACL on publish, subscribe, wills and retained messages, and the TLS
 * listener. Every negative check has a positive twin on the same path, so removing a
 * protection makes a test fail rather than pass by accident.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayBrokerConfigSchema } from '../../../gateway/broker/config.ts';
import { createBrokerCredentials } from '../../../gateway/broker/credentials.ts';
import { createEmbeddedBroker, type DeniedReason, type EmbeddedBroker } from '../../../gateway/broker/embedded.ts';
import { generateBrokerPassword, hashBrokerPassword } from '../../../gateway/broker/passwords.ts';
import { skipReason } from '../../helpers.ts';
import { closeAll, connect, granted, inbox, refusal, sleep } from './mqtt-helpers.ts';

const P = 'portier/v1';
const pw = { a: generateBrokerPassword(), b: generateBrokerPassword(), gw: generateBrokerPassword(), admin: generateBrokerPassword() };
const A = { username: 'dev-a', password: pw.a, clientId: 'dev-a' };
const B = { username: 'dev-b', password: pw.b, clientId: 'dev-b' };
const GW = { username: 'portier-gateway', password: pw.gw, clientId: 'gw-test.1' };
const ADMIN = { username: 'ops', password: pw.admin, clientId: 'ops-monitor' };

let hashes: Record<string, string>;
let broker: EmbeddedBroker;
let url: string;
const denials: { reason: DeniedReason; clientId: string; topic: string }[] = [];

async function startBroker(config: unknown): Promise<EmbeddedBroker> {
  const b = createEmbeddedBroker({
    config: gatewayBrokerConfigSchema.parse(config),
    credentials: createBrokerCredentials({
      gateway: { username: GW.username, password: pw.gw },
      admin: { username: ADMIN.username, password: pw.admin },
      deviceHash: (id) => hashes[id] ?? null,
    }),
    onDenied: (reason, clientId, topic) => denials.push({ reason, clientId, topic }),
  });
  await b.start();
  return b;
}

beforeAll(async () => {
  hashes = { 'dev-a': await hashBrokerPassword(pw.a), 'dev-b': await hashBrokerPassword(pw.b) };
  broker = await startBroker({ host: '127.0.0.1', port: 0 });
  url = broker.url;
});
afterEach(closeAll);
afterAll(() => broker.stop());

describe('authentication', () => {
  it('refuses anonymous clients and clients without a password', async () => {
    expect(await refusal(url, {})).toBe(5);
    expect(await refusal(url, { clientId: 'dev-a' })).toBe(5);
    expect(await refusal(url, { username: 'dev-a', clientId: 'dev-a' })).toBe(4);
    expect(denials.some((d) => d.reason === 'connect')).toBe(true);
  });

  it('refuses a wrong password and an unknown user, accepts the right one', async () => {
    expect(await refusal(url, { ...A, password: pw.b })).toBe(4);
    expect(await refusal(url, { ...GW, password: pw.admin })).toBe(4);
    expect(await refusal(url, { username: 'dev-c', clientId: 'dev-c', password: pw.a })).toBe(4);
    for (const who of [A, B, GW, ADMIN]) expect((await connect(url, who)).connected).toBe(true);
  });

  it('binds a device to its own client id, so it cannot take over another session', async () => {
    const b = await connect(url, B);
    let bClosed = false;
    b.on('close', () => (bClosed = true));
    expect(await refusal(url, { ...A, clientId: 'dev-b' })).toBe(2);
    expect(await refusal(url, { ...A, clientId: '' })).toBe(2);
    await sleep(100);
    expect(bClosed).toBe(false);
    // The same device reconnecting under its id replaces its older connection (a reboot).
    await connect(url, B);
    await sleep(100);
    expect(bClosed).toBe(true);
  });

  it("refuses a will on another device's topic", async () => {
    expect(await refusal(url, { ...A, will: { topic: `${P}/devices/dev-b/availability`, payload: Buffer.from('offline'), qos: 1, retain: true } })).toBe(5);
    const ok = await connect(url, { ...A, will: { topic: `${P}/devices/dev-a/availability`, payload: Buffer.from('offline'), qos: 1, retain: true } });
    expect(ok.connected).toBe(true);
  });
});

describe('publish ACL', () => {
  it("drops a device's publish on another device's topics; the sentinel on its own topic arrives", async () => {
    const gw = await connect(url, GW);
    const gwIn = inbox(gw);
    expect(await granted(gw, `${P}/#`)).toBe(1);
    const b = await connect(url, B);
    const bIn = inbox(b);
    expect(await granted(b, `${P}/devices/dev-b/down/+`)).toBe(1);
    const a = await connect(url, A);
    let aClosed = false;
    a.on('close', () => (aClosed = true));

    const forbidden = [
      `${P}/devices/dev-b/up/audit`,
      `${P}/devices/dev-b/availability`,
      `${P}/devices/dev-b/down/command`,
      `${P}/gateway/availability`,
      `${P}/devices/dev-a/down/command`,
      `${P}/devices/dev-a/up/audit/extra`,
      `${P}/devices/dev-a/up/junk`,
      'elsewhere/topic',
    ];
    for (const t of forbidden) {
      await a.publishAsync(t, 'forged', { qos: 1 });
      await a.publishAsync(t, 'forged0', { qos: 0 });
    }
    await a.publishAsync(`${P}/devices/dev-a/up/status`, 'sentinel', { qos: 1 });
    await gwIn.waitFor(`${P}/devices/dev-a/up/status`);
    await sleep(150);
    expect(gwIn.live()).toEqual([`${P}/devices/dev-a/up/status`]);
    expect(bIn.messages).toEqual([]);
    // Dropped, not disconnected: a QoS 1 retry loop would follow a disconnect.
    expect(aClosed).toBe(false);
    expect(denials.filter((d) => d.reason === 'publish' && d.clientId === 'dev-a').map((d) => d.topic)).toEqual(expect.arrayContaining(forbidden));
  });

  it('lets the gateway publish under the prefix only, and nobody publish to $SYS', async () => {
    const admin = await connect(url, ADMIN);
    const adminIn = inbox(admin);
    expect(await granted(admin, '#')).toBe(1);
    const gw = await connect(url, GW);
    await gw.publishAsync('outside/prefix', 'x', { qos: 1 });
    await gw.publishAsync(`$SYS/forged/new/clients`, 'dev-a', { qos: 1 });
    await gw.publishAsync(`${P}/devices/dev-b/down/notify`, 'from-gateway', { qos: 1 });
    await adminIn.waitFor(`${P}/devices/dev-b/down/notify`);
    await sleep(100);
    expect(adminIn.live()).toEqual([`${P}/devices/dev-b/down/notify`]);
  });
});

describe('subscribe ACL', () => {
  it("answers a device's subscription to foreign topics or wildcards with 0x80 and delivers nothing", async () => {
    const a = await connect(url, A);
    const aIn = inbox(a);
    for (const f of [`${P}/devices/dev-b/down/+`, `${P}/devices/dev-b/down/command`, `${P}/devices/dev-b/up/+`, '#', `${P}/#`, `${P}/devices/+/down/+`, '$SYS/#', `$share/g/${P}/devices/dev-b/down/+`]) {
      expect(await granted(a, f), f).toBe(128);
    }
    for (const f of [`${P}/devices/dev-a/down/+`, `${P}/devices/dev-a/down/#`, `${P}/devices/dev-a/down/command`, `${P}/gateway/availability`]) {
      expect(await granted(a, f), f).toBe(1);
    }
    const gw = await connect(url, GW);
    await gw.publishAsync(`${P}/devices/dev-b/down/command`, 'for-b', { qos: 1 });
    await gw.publishAsync(`${P}/devices/dev-b/up/audit`, 'b-audit', { qos: 1 });
    await gw.publishAsync(`${P}/devices/dev-a/down/command`, 'for-a', { qos: 1 });
    await aIn.waitFor(`${P}/devices/dev-a/down/command`);
    await sleep(150);
    expect(new Set(aIn.topics())).toEqual(new Set([`${P}/devices/dev-a/down/command`]));
  });

  it('lets the gateway subscribe under the prefix and the admin to everything', async () => {
    const gw = await connect(url, GW);
    expect(await granted(gw, `${P}/#`)).toBe(1);
    expect(await granted(gw, `${P}/devices/+/up/+`)).toBe(1);
    expect(await granted(gw, '#')).toBe(128);
    expect(await granted(gw, '$SYS/#')).toBe(128);
    const admin = await connect(url, ADMIN);
    expect(await granted(admin, '#')).toBe(1);
    expect(await granted(admin, '$SYS/#')).toBe(1);
  });
});

describe('retained messages', () => {
  it('are delivered only through subscriptions the ACL allows, and forged ones are never stored', async () => {
    const gw = await connect(url, GW);
    await gw.publishAsync(`${P}/devices/dev-b/down/notify`, 'retained-for-b', { qos: 1, retain: true });
    await gw.publishAsync(`${P}/devices/dev-a/down/notify`, 'retained-for-a', { qos: 1, retain: true });
    const b = await connect(url, B);
    await b.publishAsync(`${P}/devices/dev-b/availability`, 'online', { qos: 1, retain: true });
    const a = await connect(url, A);
    // Forged retained status of B: would be served to every later subscriber if stored.
    await a.publishAsync(`${P}/devices/dev-b/availability`, 'offline', { qos: 1, retain: true });
    await a.publishAsync(`${P}/devices/dev-b/down/notify`, 'forged', { qos: 1, retain: true });

    const aIn = inbox(a);
    expect(await granted(a, `${P}/devices/dev-b/down/#`)).toBe(128);
    expect(await granted(a, '#')).toBe(128);
    expect(await granted(a, `${P}/devices/dev-a/down/#`)).toBe(1);
    await aIn.waitFor(`${P}/devices/dev-a/down/notify`);
    await sleep(150);
    expect(aIn.messages).toEqual([{ topic: `${P}/devices/dev-a/down/notify`, payload: 'retained-for-a', retain: true }]);

    const admin = await connect(url, ADMIN);
    const adminIn = inbox(admin);
    expect(await granted(admin, `${P}/#`)).toBe(1);
    await adminIn.waitFor(`${P}/devices/dev-b/availability`);
    await adminIn.waitFor(`${P}/devices/dev-b/down/notify`);
    await sleep(100);
    const byTopic = Object.fromEntries(adminIn.messages.map((m) => [m.topic, m.payload]));
    expect(byTopic[`${P}/devices/dev-b/availability`]).toBe('online');
    expect(byTopic[`${P}/devices/dev-b/down/notify`]).toBe('retained-for-b');
  });
});

describe('retained messages of a device', () => {
  it('are kept for its availability and up/status only; other retained publishes are dropped', async () => {
    const gw = await connect(url, GW);
    const gwIn = inbox(gw);
    expect(await granted(gw, `${P}/devices/dev-b/#`)).toBe(1);
    const b = await connect(url, B);
    // Each of these would stay in the broker's memory for good if stored.
    for (let i = 0; i < 20; i++) await b.publishAsync(`${P}/devices/dev-b/up/x${i}`, 'junk', { qos: 1, retain: true });
    await b.publishAsync(`${P}/devices/dev-b/up/audit`, 'retained-audit', { qos: 1, retain: true });
    await b.publishAsync(`${P}/devices/dev-b/up/hello`, 'retained-hello', { qos: 0, retain: true });
    await b.publishAsync(`${P}/devices/dev-b/up/audit`, 'live-audit', { qos: 1 });
    await b.publishAsync(`${P}/devices/dev-b/up/status`, 'status', { qos: 1, retain: true });
    await b.publishAsync(`${P}/devices/dev-b/availability`, 'online', { qos: 1, retain: true });
    await gwIn.waitFor(`${P}/devices/dev-b/availability`);
    await sleep(100);
    // Dropped, not delivered live either (a retain the device should not set is a bug or an attack).
    expect(gwIn.messages.filter((m) => !m.retain).map((m) => m.payload)).toEqual(['live-audit', 'status', 'online']);
    expect(denials.filter((d) => d.reason === 'publish' && d.clientId === 'dev-b').map((d) => d.topic)).toEqual(
      expect.arrayContaining([`${P}/devices/dev-b/up/x0`, `${P}/devices/dev-b/up/audit`, `${P}/devices/dev-b/up/hello`]),
    );

    const admin = await connect(url, ADMIN);
    const adminIn = inbox(admin);
    expect(await granted(admin, `${P}/devices/dev-b/up/#`)).toBe(1);
    await adminIn.waitFor(`${P}/devices/dev-b/up/status`);
    await sleep(100);
    expect(adminIn.messages).toEqual([{ topic: `${P}/devices/dev-b/up/status`, payload: 'status', retain: true }]);
  });
});

describe('URLs', () => {
  it('points at loopback when bound to all interfaces and prefers the advertised URL for devices', () => {
    const make = (c: unknown) => createEmbeddedBroker({ config: gatewayBrokerConfigSchema.parse(c), credentials: { verify: async () => null } });
    expect(make({ port: 1884 }).url).toBe('mqtt://127.0.0.1:1884');
    expect(make({ host: '::', port: 1884 }).url).toBe('mqtt://[::1]:1884');
    expect(make({ host: '10.0.0.5' }).advertisedUrl).toBe('mqtt://10.0.0.5:1883');
    expect(make({ tls: { cert: 'c', key: 'k' } }).advertisedUrl).toBe('mqtts://127.0.0.1:8883');
    expect(make({ advertisedUrl: 'mqtts://gw.lan:8883' }).advertisedUrl).toBe('mqtts://gw.lan:8883');
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
  });
});

describe('TLS listener', () => {
  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const skip = skipReason(hasOpenssl, 'openssl CLI not found; the TLS listener test needs it to make a self-signed certificate');
  let dir: string;
  let tlsBroker: EmbeddedBroker;
  let ca: Buffer;

  beforeAll(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'portier-broker-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'cert.pem'));
    tlsBroker = await startBroker({ host: '127.0.0.1', port: 0, tls: { port: 0, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
  });
  afterAll(async () => {
    await tlsBroker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)('accepts authenticated TLS clients that trust the certificate', async () => {
    const tlsUrl = tlsBroker.tlsUrl!;
    expect(tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const c = await connect(tlsUrl, { ...A, ca });
    expect(c.connected).toBe(true);
    expect(await granted(c, `${P}/devices/dev-b/down/+`)).toBe(128);
    expect(await refusal(tlsUrl, { ca })).toBe(5);
  });

  it.skipIf(skip)('refuses plain MQTT on the TLS port and TLS clients that do not trust the certificate', async () => {
    const tlsPort = new URL(tlsBroker.tlsUrl!).port;
    expect(await refusal(`mqtt://127.0.0.1:${tlsPort}`, A)).toEqual(expect.any(String));
    expect(String(await refusal(tlsBroker.tlsUrl!, A))).toMatch(/self[- ]signed|certificate/i);
    // The plain listener stays plain.
    expect((await connect(tlsBroker.url, A)).connected).toBe(true);
  });
});
