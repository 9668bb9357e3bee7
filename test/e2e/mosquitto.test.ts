/**
 * The end-to-end flow against Debian's Mosquitto instead of the embedded broker, using exactly
 * what `provision` generated: each device's password-file line and ACL block, loaded into a
 * running Mosquitto with SIGHUP. Skips (with the reason) where mosquitto is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../core/sync/contract.ts';
import type { VisionEngine } from '../../core/vision/engine.ts';
import { mosquittoAclFile, mosquittoConfig, mosquittoPasswordLine } from '../../gateway/broker/mosquitto.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { fixture, hasModels, makeEngine, skipReason } from '../helpers.ts';
import { ALL_WEEK, ApiClient, startJoinedDevice, startTestGateway, tempDir, waitFor, type JoinedDevice } from './helpers.ts';

const bin = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'].map((d) => join(d, 'mosquitto')).find((f) => f.startsWith('/') && existsSync(f));
const skip = skipReason(hasModels, 'models/ missing') || skipReason(!!bin, 'mosquitto is not installed (apt-get install mosquitto): the Mosquitto end-to-end test is skipped');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe.skipIf(skip)('gateway + two devices on Mosquitto with provisioned credentials and ACL', () => {
  const GW = { username: 'portier-gateway', password: randomBytes(18).toString('base64url') };
  let engine: VisionEngine;
  let gw: Gateway;
  let api: ApiClient;
  let proc: ChildProcess;
  let url: string;
  let stderr = '';
  const devices: JoinedDevice[] = [];
  const cleanups: (() => void)[] = [];
  const dir = (p: string) => {
    const t = tempDir(p);
    cleanups.push(t.cleanup);
    return t.dir;
  };
  let pwFile: string;
  let aclFile: string;

  beforeAll(async () => {
    engine = await makeEngine();
    const mdir = dir('portier-mosq-');
    pwFile = join(mdir, 'passwd');
    aclFile = join(mdir, 'acl');
    writeFileSync(pwFile, `${mosquittoPasswordLine(GW.username, GW.password)}\n`, { mode: 0o600 });
    writeFileSync(aclFile, mosquittoAclFile({ gatewayUsername: GW.username, deviceIds: [] }), { mode: 0o600 });
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    const conf = join(mdir, 'mosquitto.conf');
    writeFileSync(conf, mosquittoConfig({ port, host: '127.0.0.1', passwordFile: pwFile, aclFile, user: userInfo().username }));
    proc = spawn(bin!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d) => (stderr += d));
    await waitFor(`mosquitto on ${url}`, async () => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
      const c = await mqtt.connectAsync(url, { ...GW, reconnectPeriod: 0, connectTimeout: 1000 });
      await c.endAsync();
      return true;
    });
    gw = await startTestGateway(dir('portier-gw-'), engine, { broker: { type: 'external', url, username: GW.username, password: GW.password } });
    api = new ApiClient(gw.http.url);
    await api.setup(gw.auth.setupToken()!);
    await api.call('POST', '/api/doors', { id: 'front' });
    // Provision both through the API and install what it generated into Mosquitto.
    const acl: string[] = [];
    const provisioned: Record<string, { bundle: string }> = {};
    for (const id of ['m-door-a', 'm-door-b']) {
      const r = await api.call('POST', '/api/devices', { id, doorId: 'front' });
      expect(r.status).toBe(201);
      appendFileSync(pwFile, `${r.body.mosquitto.passwordLine}\n`);
      acl.push(r.body.mosquitto.aclLines.join('\n'));
      provisioned[id] = r.body;
    }
    appendFileSync(aclFile, `\n${acl.join('\n\n')}\n`);
    proc.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    for (const id of ['m-door-a', 'm-door-b']) devices.push(await startJoinedDevice(api, engine, { id, door: 'front', dir: dir(`portier-${id}-`), provisioned: provisioned[id] }));
    await waitFor('both devices joined through Mosquitto', () => gw.store.devices.get('m-door-a')?.signPublicKey && gw.store.devices.get('m-door-b')?.signPublicKey, 15_000);
  }, 120_000);

  afterAll(async () => {
    for (const d of devices) await d.device.stop();
    await gw?.stop();
    await engine?.close();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    cleanups.forEach((c) => c());
  });

  it('enrolment reaches both devices within 2 s, the face opens the door, the decision is logged once', async () => {
    const [a, b] = devices;
    expect((await api.call('POST', '/api/people', { id: 'grace', name: 'Grace Hopper', schedules: ALL_WEEK })).status).toBe(201);
    const photo = readFileSync(fixture('grace_hopper.jpg'));
    const t0 = Date.now();
    const enrol = await api.call('POST', '/api/people/grace/photos', { photos: [{ name: 'g.jpg', data: photo.toString('base64') }] });
    expect(enrol.body.accepted).toBe(1);
    await waitFor('grace on both devices', () => a.device.gallery.has('grace') && b.device.gallery.has('grace'), 2000, 5);
    console.log(`(mosquitto) enrolment reached both devices in ${Date.now() - t0} ms`);
    const granted = new Promise((res) => a.device.on('decision', (d) => d.granted && d.personId === 'grace' && res(d)));
    await Promise.race([a.camera.play(photo, 40, 10), granted]);
    await waitFor('a grant', () => granted, 10_000);
    await waitFor('outbox drained', () => a.device.store.outbox.count() === 0, 10_000);
    expect(gw.store.audit.search({ deviceId: 'm-door-a', kind: 'decision', personId: 'grace', decision: 'granted', limit: 10 }).items).toHaveLength(1);
  }, 60_000);

  it('the generated credentials and ACL keep devices in their own topics on Mosquitto', async () => {
    const anon = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 2000 }).then(
      (c) => (c.end(), 'connected'),
      (err: Error) => err.message,
    );
    expect(anon).not.toBe('connected');
    // Device A's own credentials (from its join) cannot reach B's down topics or speak as B.
    const secretA = readFileSync(join(devices[0].dir, 'broker.secret'), 'utf8');
    const asA = await mqtt.connectAsync(url, { username: 'm-door-a', password: secretA, clientId: 'm-door-a-probe', reconnectPeriod: 0 });
    const got: string[] = [];
    asA.on('message', (t) => got.push(t));
    await asA.subscribeAsync(topics.down('m-door-b', 'command'), { qos: 1 }).catch(() => undefined);
    await asA.publishAsync(topics.up('m-door-b', 'audit'), '{"forged":true}', { qos: 1 }).catch(() => undefined);
    const before = gw.store.audit.search({ deviceId: 'm-door-b', kind: 'security', limit: 100 }).items.length;
    const unlock = await api.call('POST', '/api/devices/m-door-b/unlock', { reason: 'acl check' });
    expect(unlock.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    await asA.endAsync();
    expect(got).toEqual([]);
    // The forged publish never reached the gateway (it would have been recorded as malformed).
    expect(gw.store.audit.search({ deviceId: 'm-door-b', kind: 'security', limit: 100 }).items.length).toBe(before);
  }, 30_000);
});
