/**
 * The embedded broker's bounds over real TCP (and TLS) on loopback: the packet size limit, before
 * and after login, and cutting off a device that was deleted or reprovisioned. Each refusal has a
 * twin that passes on the same path.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayBrokerConfigSchema } from '../../../gateway/broker/config.ts';
import { createBrokerCredentials } from '../../../gateway/broker/credentials.ts';
import { createEmbeddedBroker, type DeniedReason, type EmbeddedBroker } from '../../../gateway/broker/embedded.ts';
import { generateBrokerPassword, hashBrokerPassword } from '../../../gateway/broker/passwords.ts';
import { skipReason } from '../../helpers.ts';
import { closeAll, connect, inbox, refusal, sleep } from './mqtt-helpers.ts';

const P = 'portier/v1';
const MAX = 256 * 1024;
const pw = { a: generateBrokerPassword(), gw: generateBrokerPassword() };
const A = { username: 'dev-a', password: pw.a, clientId: 'dev-a' };
const GW = { username: 'portier-gateway', password: pw.gw, clientId: 'gw-test.1' };

/** The device table of the test: id -> broker password hash; deleting a row revokes the device. */
const deviceHashes = new Map<string, string>();
/** When set, a device's hash lookup waits for this (a password check in flight). */
let hold: Promise<void> | undefined;
const denials: { reason: DeniedReason; clientId: string }[] = [];

async function startBroker(config: object): Promise<EmbeddedBroker> {
  const b = createEmbeddedBroker({
    config: gatewayBrokerConfigSchema.parse({ host: '127.0.0.1', port: 0, maxPacketBytes: MAX, ...config }),
    credentials: createBrokerCredentials({
      gateway: { username: GW.username, password: pw.gw },
      deviceHash: async (id) => {
        const h = deviceHashes.get(id) ?? null; // read before waiting, like a store read racing a revoke
        if (hold) await hold;
        return h;
      },
    }),
    onDenied: (reason, clientId) => denials.push({ reason, clientId }),
  });
  await b.start();
  return b;
}

/**
 * Opens a raw connection, writes `head`, then streams filler in 64 KiB chunks up to `total`
 * bytes while the broker keeps the connection open. Resolves with whether the broker closed it
 * within `ms` and how much was written by then.
 */
async function stream(open: () => Socket, head: Buffer, total: number, ms = 2000): Promise<{ closed: boolean; written: number }> {
  const s = open();
  let closed = false;
  s.on('error', () => {});
  const closedP = new Promise<void>((r) => s.once('close', () => ((closed = true), r())));
  await new Promise<void>((r, j) => (s.once('connect', r), s.once('secureConnect', r), s.once('error', j)));
  s.write(head);
  let written = head.length;
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const deadline = Date.now() + ms;
  while (!closed && written < total && Date.now() < deadline) {
    if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once('drain', r)), closedP, sleep(50)]);
    written += chunk.length;
  }
  await Promise.race([closedP, sleep(Math.max(0, deadline - Date.now()))]);
  s.destroy();
  return { closed, written };
}

/** A fixed header: type/flags byte and the Remaining Length as a variable byte integer. */
function header(typeByte: number, remaining: number): Buffer {
  const out = [typeByte];
  do {
    let b = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) b |= 0x80;
    out.push(b);
  } while (remaining > 0);
  return Buffer.from(out);
}

const str = (v: string | Buffer) => {
  const b = Buffer.from(v);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
/** Device A's CONNECT (MQTT 3.1.1 §3.1) with a retained QoS 1 will of `willBytes` on its availability topic. */
function willConnect(willBytes: number): Buffer {
  const flags = 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02; // user, password, will retain, will QoS 1, will, clean
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 30]), str(A.clientId), str(`${P}/devices/dev-a/availability`), str(Buffer.alloc(willBytes, 1)), str(A.username), str(A.password)]);
  return Buffer.concat([header(0x10, body.length), body]);
}
/** Sends one CONNECT on a raw socket; the CONNACK return code (null without one) and whether the broker closed. */
async function connectRaw(packet: Buffer): Promise<{ closed: boolean; connack: number | null }> {
  const s = netConnect(port, '127.0.0.1');
  s.on('error', () => {});
  let closed = false;
  let connack: number | null = null;
  s.on('close', () => (closed = true));
  s.on('data', (d: Buffer) => {
    if (d[0] === 0x20 && d.length >= 4) connack = d[3];
  });
  await new Promise((r) => s.once('connect', r));
  s.write(packet);
  for (let i = 0; i < 40 && !closed && connack === null; i++) await sleep(25);
  await sleep(50);
  s.destroy();
  return { closed, connack };
}

let broker: EmbeddedBroker;
let url: string;
let port: number;

beforeAll(async () => {
  deviceHashes.set('dev-a', await hashBrokerPassword(pw.a));
  broker = await startBroker({});
  url = broker.url;
  port = Number(new URL(url).port);
});
afterEach(async () => {
  hold = undefined;
  await closeAll();
});
afterAll(() => broker.stop());

describe('packet size limit', () => {
  it('closes a connection that announces a 200 MB CONNECT without logging in, at its header', async () => {
    const r = await stream(() => netConnect(port, '127.0.0.1'), header(0x10, 200_000_000), 64 * 1024 * 1024);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(64 * 1024 * 1024);
    expect(denials.some((d) => d.reason === 'packet')).toBe(true);
  });

  it('closes a connection whose first packet is not CONNECT, without waiting for its body', async () => {
    // 30 KB is under the before-login limit: only the CONNECT-first rule stops it before aedes buffers it.
    const r = await stream(() => netConnect(port, '127.0.0.1'), Buffer.concat([header(0x30, 30_000), Buffer.alloc(10)]), 0, 1000);
    expect(r.closed).toBe(true);
  });

  it('holds a CONNECT to 64 KiB before login, even a correct one whose will is on its own topic', async () => {
    expect(await connectRaw(willConnect(100_000))).toEqual({ closed: true, connack: null });
    expect(await connectRaw(willConnect(1000))).toEqual({ closed: false, connack: 0 });
  });

  it("closes a logged-in device's connection on a publish over maxPacketBytes; one under it arrives", async () => {
    const gw = await connect(url, GW);
    const gwIn = inbox(gw);
    await gw.subscribeAsync(`${P}/#`, { qos: 1 });
    const a = await connect(url, A);
    let aClosed = false;
    a.on('close', () => (aClosed = true));
    await a.publishAsync(`${P}/devices/dev-a/up/audit`, Buffer.alloc(MAX - 1000, 1), { qos: 0 });
    await gwIn.waitFor(`${P}/devices/dev-a/up/audit`);
    expect(aClosed).toBe(false);
    a.publish(`${P}/devices/dev-a/up/sync`, Buffer.alloc(MAX + 1, 1), { qos: 0 });
    for (let i = 0; i < 40 && !aClosed; i++) await sleep(50);
    expect(aClosed).toBe(true);
    await sleep(100);
    expect(gwIn.topics()).not.toContain(`${P}/devices/dev-a/up/sync`);
    // The gateway's own client is bound by the same limit.
    let gwClosed = false;
    gw.on('close', () => (gwClosed = true));
    gw.publish(`${P}/devices/dev-a/down/changes`, Buffer.alloc(MAX + 1, 1), { qos: 0 });
    for (let i = 0; i < 40 && !gwClosed; i++) await sleep(50);
    expect(gwClosed).toBe(true);
  });

  it('defaults to 4 MiB and refuses a limit too small for a CONNECT', () => {
    expect(gatewayBrokerConfigSchema.parse({}).maxPacketBytes).toBe(4 * 1024 * 1024);
    expect(() => gatewayBrokerConfigSchema.parse({ maxPacketBytes: 100 })).toThrow();
  });
});

describe('disconnect', () => {
  it('cuts off a revoked device, which then cannot log in again with its old password', async () => {
    deviceHashes.set('dev-c', await hashBrokerPassword(pw.a));
    const C = { ...A, username: 'dev-c', clientId: 'dev-c' };
    const c = await connect(url, C);
    await c.subscribeAsync(`${P}/devices/dev-c/down/+`, { qos: 1 });
    let closed = false;
    c.on('close', () => (closed = true));
    expect(broker.disconnect('dev-b')).toBe(false);
    await sleep(100);
    expect(closed).toBe(false);

    deviceHashes.delete('dev-c'); // decommission
    expect(broker.disconnect('dev-c')).toBe(true);
    for (let i = 0; i < 40 && !closed; i++) await sleep(25);
    expect(closed).toBe(true);
    expect(await refusal(url, C)).toBe(4);
    await sleep(100);
    expect(broker.disconnect('dev-c')).toBe(false);
  });

  it('cuts off a reprovisioned device: the old password fails, the new one works', async () => {
    const C = { ...A, username: 'dev-c', clientId: 'dev-c' };
    deviceHashes.set('dev-c', await hashBrokerPassword(pw.a));
    const c = await connect(url, C);
    let closed = false;
    c.on('close', () => (closed = true));
    const fresh = generateBrokerPassword();
    deviceHashes.set('dev-c', await hashBrokerPassword(fresh));
    expect(broker.disconnect('dev-c')).toBe(true);
    for (let i = 0; i < 40 && !closed; i++) await sleep(25);
    expect(closed).toBe(true);
    expect(await refusal(url, C)).toBe(4);
    expect((await connect(url, { ...C, password: fresh })).connected).toBe(true);
  });

  it('also cuts off a connection whose password check, with the old hash, is still in flight', async () => {
    deviceHashes.set('dev-d', await hashBrokerPassword(pw.a));
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const pending = refusal(url, { ...A, username: 'dev-d', clientId: 'dev-d' });
    // Wait until aedes has the client id and the lookup has read the (old) hash.
    for (let i = 0; i < 40 && !broker.disconnect('dev-d'); i++) await sleep(25);
    deviceHashes.delete('dev-d');
    release();
    expect(await pending).toEqual(expect.any(String));
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

  beforeAll(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'portier-broker-limit-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tlsBroker = await startBroker({ tls: { port: 0, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
  });
  afterAll(async () => {
    await tlsBroker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skip)('applies the packet limit to TLS connections too', async () => {
    const tlsPort = Number(new URL(tlsBroker.tlsUrl!).port);
    const ca = readFileSync(join(dir, 'cert.pem'));
    const r = await stream(() => tlsConnect({ port: tlsPort, host: '127.0.0.1', ca }), header(0x10, 200_000_000), 32 * 1024 * 1024);
    expect(r.closed).toBe(true);
    expect(r.written).toBeLessThan(32 * 1024 * 1024);
    expect((await connect(tlsBroker.tlsUrl!, { ...A, ca })).connected).toBe(true);
  });
});
