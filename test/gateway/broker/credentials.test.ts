import { describe, expect, it } from 'vitest';
import { createBrokerCredentials } from '../../../gateway/broker/credentials.ts';
import { generateBrokerPassword, hashBrokerPassword, verifyBrokerPassword } from '../../../gateway/broker/passwords.ts';

describe('broker passwords', () => {
  it('generates 24 random bytes as base64url', () => {
    const a = generateBrokerPassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(24);
    expect(generateBrokerPassword()).not.toBe(a);
  });

  it('hashes with a fresh salt and verifies only the right password', async () => {
    const pw = generateBrokerPassword();
    const h1 = await hashBrokerPassword(pw);
    const h2 = await hashBrokerPassword(pw);
    expect(h1).toMatch(/^scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain(pw);
    expect(await verifyBrokerPassword(pw, h1)).toBe(true);
    expect(await verifyBrokerPassword(pw, h2)).toBe(true);
    expect(await verifyBrokerPassword(pw + 'x', h1)).toBe(false);
    expect(await verifyBrokerPassword('', h1)).toBe(false);
  });

  it('refuses malformed hashes and absurd parameters without throwing', async () => {
    const h = await hashBrokerPassword('pw');
    expect(await verifyBrokerPassword('pw', '')).toBe(false);
    expect(await verifyBrokerPassword('pw', 'pw')).toBe(false);
    expect(await verifyBrokerPassword('pw', h.replace('ln=14', 'ln=30'))).toBe(false);
    expect(await verifyBrokerPassword('pw', h.slice(0, -4))).toBe(false);
  });
});

describe('createBrokerCredentials', () => {
  it('maps gateway, admin and device users to principals', async () => {
    const devPw = generateBrokerPassword();
    const hash = await hashBrokerPassword(devPw);
    const looked: string[] = [];
    const creds = createBrokerCredentials({
      gateway: { username: 'portier-gateway', password: 'gw-secret' },
      admin: { username: 'ops', password: 'admin-secret-long' },
      deviceHash: (id) => (looked.push(id), id === 'dev-a' ? hash : null),
    });
    expect(await creds.verify('portier-gateway', 'gw-secret')).toEqual({ kind: 'gateway' });
    expect(await creds.verify('portier-gateway', 'gw-secreT')).toBeNull();
    expect(await creds.verify('ops', 'admin-secret-long')).toEqual({ kind: 'admin' });
    expect(await creds.verify('ops', '')).toBeNull();
    expect(await creds.verify('dev-a', devPw)).toEqual({ kind: 'device', deviceId: 'dev-a' });
    expect(await creds.verify('dev-a', 'nope')).toBeNull();
    expect(await creds.verify('dev-b', devPw)).toBeNull();
    // Not device ids: never looked up (a '+' or '/' in a username would otherwise reach topic patterns).
    expect(await creds.verify('dev/+', devPw)).toBeNull();
    expect(await creds.verify('', devPw)).toBeNull();
    expect(looked).toEqual(['dev-a', 'dev-a', 'dev-b']);
  });

  it('never lets a device share the name of a configured user', async () => {
    const hash = await hashBrokerPassword('device-pw');
    const creds = createBrokerCredentials({ gateway: { username: 'gateway', password: 'gw' }, deviceHash: () => hash });
    expect(await creds.verify('gateway', 'device-pw')).toBeNull();
  });
});
