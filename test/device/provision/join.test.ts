import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBundle, joinKey, type Bundle } from '../../../core/sync/bundle.ts';
import { generateKeySet, publicKeys, readKeySetFile } from '../../../core/sync/keys.ts';
import { JoinError, joinDevice, keygen } from '../../../device/provision/join.ts';
import { loadKeyFile } from '../../../device/store/crypto.ts';
import { openSettings } from '../../../device/store/settings.ts';
import { defaultSyncConfig } from '../../../device/sync/config.ts';
import { tempDir } from '../harness.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
const dir = () => {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
};

const gatewayA = publicKeys(generateKeySet());
const gatewayB = publicKeys(generateKeySet());
const bundle = (over: Partial<Bundle> = {}): Bundle => ({
  v: 1,
  deviceId: 'door-1',
  broker: { url: 'mqtt://gw.lan:1883', username: 'door-1', password: 'broker-password-1' },
  gateway: gatewayA,
  joinSecret: 'join-secret-0123456789abcdef',
  ...over,
});
const config = defaultSyncConfig();
const mode = (f: string) => statSync(f).mode & 0o777;
const settingsOf = async (d: string) => (await openSettings(join(d, 'settings.json'))).data;

describe('joinDevice', () => {
  it('makes the device keys and the password file 0600 and pins the gateway in the settings document', async () => {
    const d = dir();
    const r = await joinDevice({ storeDir: d, bundle: encodeBundle(bundle()), config, now: () => Date.UTC(2026, 0, 1) });
    expect(r).toMatchObject({ deviceId: 'door-1', brokerUrl: 'mqtt://gw.lan:1883', keysCreated: true, replaced: false });
    for (const f of ['device-keys.pem', 'broker.secret', 'settings.json']) expect(mode(join(d, f))).toBe(0o600);
    expect(readFileSync(join(d, 'broker.secret'), 'utf8')).toBe('broker-password-1');
    const keys = readKeySetFile(join(d, 'device-keys.pem'));
    expect(publicKeys(keys)).toEqual({ signPublicKey: r.signPublicKey, sealPublicKey: r.sealPublicKey });
    const s = await settingsOf(d);
    expect(s.sync).toEqual({
      deviceId: 'door-1',
      broker: { url: 'mqtt://gw.lan:1883', username: 'door-1' },
      gateway: gatewayA,
      joinKey: joinKey('join-secret-0123456789abcdef'),
      lastDownSeq: 0,
      cursor: null,
      joinedAt: '2026-01-01T00:00:00.000Z',
      confirmedAt: null,
    });
    // Neither the password nor the join secret is kept in the settings document.
    const text = readFileSync(join(d, 'settings.json'), 'utf8');
    expect(text).not.toContain('broker-password-1');
    expect(text).not.toContain('join-secret-0123456789abcdef');
  });

  it('keeps the device keys and cursor when joining the same gateway again', async () => {
    const d = dir();
    const first = await joinDevice({ storeDir: d, bundle: encodeBundle(bundle()), config });
    const db = await openSettings(join(d, 'settings.json'));
    db.data.sync = { ...db.data.sync!, cursor: 42, lastDownSeq: 99, joinKey: null };
    await db.write();
    const again = await joinDevice({ storeDir: d, bundle: encodeBundle(bundle({ broker: { url: 'mqtts://gw.lan:8883', username: 'door-1', password: 'new-password' } })), config });
    expect(again.keysCreated).toBe(false);
    expect(again.signPublicKey).toBe(first.signPublicKey);
    const s = await settingsOf(d);
    expect(s.sync).toMatchObject({ cursor: 42, lastDownSeq: 99, broker: { url: 'mqtts://gw.lan:8883' }, joinKey: joinKey('join-secret-0123456789abcdef') });
    expect(readFileSync(join(d, 'broker.secret'), 'utf8')).toBe('new-password');
  });

  it('requires force to join a different gateway, which resets the cursor and sequence', async () => {
    const d = dir();
    await joinDevice({ storeDir: d, bundle: encodeBundle(bundle()), config });
    const db = await openSettings(join(d, 'settings.json'));
    db.data.sync = { ...db.data.sync!, cursor: 42, lastDownSeq: 99 };
    await db.write();
    const other = encodeBundle(bundle({ gateway: gatewayB }));
    await expect(joinDevice({ storeDir: d, bundle: other, config })).rejects.toThrow(JoinError);
    expect((await settingsOf(d)).sync!.gateway).toEqual(gatewayA);
    const r = await joinDevice({ storeDir: d, bundle: other, config, force: true });
    expect(r.replaced).toBe(true);
    expect((await settingsOf(d)).sync).toMatchObject({ gateway: gatewayB, cursor: null, lastDownSeq: 0 });
  });

  it('refuses a corrupt bundle and writes nothing', async () => {
    const d = dir();
    await expect(joinDevice({ storeDir: d, bundle: 'portier1.bm90IGpzb24', config })).rejects.toThrow(/corrupt/);
    await expect(joinDevice({ storeDir: d, bundle: 'hello', config })).rejects.toThrow(/not a Portier provisioning bundle/);
    expect(() => statSync(join(d, 'device-keys.pem'))).toThrow();
  });
});

describe('keygen', () => {
  it('creates a 0600 template key the store can load and refuses to overwrite it', () => {
    const d = dir();
    const f = keygen(join(d, 'data'));
    expect(f).toBe(join(d, 'data', 'template.key'));
    expect(mode(f)).toBe(0o600);
    expect(loadKeyFile(f)).toHaveLength(32);
    expect(() => keygen(join(d, 'data'))).toThrow(/already exists/);
  });
});
