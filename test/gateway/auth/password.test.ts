import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashPassword, verifyPassword } from '../../../gateway/auth/password.ts';
import { AuthError, createUser, resetSetupToken, setPassword } from '../../../gateway/auth/index.ts';
import { gatewayAuthConfigSchema } from '../../../gateway/auth/config.ts';
import { ADMIN, closeBenches, login, setupAdmin, startBench } from './harness.ts';

afterEach(closeBenches);

describe('password hashing (scrypt)', () => {
  it('stores parameters and salt, never the password, and verifies', async () => {
    const h = await hashPassword('correct horse battery', 15);
    expect(h).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(h).not.toContain('correct horse battery');
    expect(await verifyPassword('correct horse battery', h)).toBe(true);
    expect(await verifyPassword('correct horse batterY', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
    // Same password, different salt, different hash.
    expect(await hashPassword('correct horse battery', 15)).not.toBe(h);
  });

  it('malformed or tampered hashes never verify (and absurd costs are refused)', async () => {
    const h = await hashPassword('correct horse battery', 14);
    const parts = h.split('$');
    // Flip the first character: the last one of a 32-byte base64url value carries 2 padding
    // bits, so changing it can decode to the very same bytes.
    const flipped = (parts[3].startsWith('A') ? 'B' : 'A') + parts[3].slice(1);
    for (const bad of ['', 'correct horse battery', `${parts[0]}$${parts[1]}$${parts[2]}$${flipped}`, h.replace('ln=14', 'ln=30'), h.replace('ln=14', 'ln=13')]) {
      expect(await verifyPassword('correct horse battery', bad)).toBe(false);
    }
  });

  it('the user table holds scrypt hashes that verify, not passwords', async () => {
    const b = await startBench();
    await setupAdmin(b);
    const rows = b.db.prepare('SELECT * FROM auth_users').all() as { password_hash: string }[];
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(ADMIN.password);
    expect(rows[0].password_hash).toMatch(/^scrypt\$ln=15,/);
    expect(await verifyPassword(ADMIN.password, rows[0].password_hash)).toBe(true);
    expect(await verifyPassword('not it', rows[0].password_hash)).toBe(false);
  });

  it('config: minimum length 12 by default, secure cookies off by default, no password field at all', () => {
    const c = gatewayAuthConfigSchema.parse({});
    expect(c.minPasswordLength).toBe(12);
    expect(c.secureCookies).toBe(false);
    expect(Object.keys(c).some((k) => /^(default|initial|admin)Password/i.test(k))).toBe(false);
    expect(() => gatewayAuthConfigSchema.parse({ minPasswordLength: 4 })).toThrow();
    expect(() => gatewayAuthConfigSchema.parse({ bogus: 1 })).toThrow();
  });
});

describe('CLI helpers', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('createUser makes a user on a bare database, clears the setup token for an admin, and validates', async () => {
    dir = mkdtempSync(join(tmpdir(), 'portier-auth-cli-'));
    const db = new Database(join(dir, 'g.db'));
    try {
      expect(resetSetupToken(db)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await expect(createUser(db, 'ops', 'short', 'admin')).rejects.toBeInstanceOf(AuthError);
      await expect(createUser(db, 'ops', 'long enough pw', 'root' as never)).rejects.toThrow(/role/);
      await createUser(db, 'Ops', 'long enough pw', 'admin');
      await expect(createUser(db, 'ops', 'long enough pw', 'viewer')).rejects.toThrow(/exists/);
      expect(db.prepare('SELECT COUNT(*) AS n FROM auth_setup').get()).toEqual({ n: 0 });
      expect(resetSetupToken(db)).toBeNull();
      const row = db.prepare('SELECT username, role, password_hash FROM auth_users').get() as { username: string; role: string; password_hash: string };
      expect(row).toMatchObject({ username: 'ops', role: 'admin' });
      expect(await verifyPassword('long enough pw', row.password_hash)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('setPassword replaces a forgotten password and ends the sessions', async () => {
    const b = await startBench();
    const admin = await setupAdmin(b);
    await setPassword(b.db, 'root', 'recovered password');
    expect((await b.call('/api/protected', { cookie: admin.cookie })).status).toBe(401);
    expect((await login(b, 'root', ADMIN.password)).reply.status).toBe(401);
    expect((await login(b, 'root', 'recovered password')).reply.status).toBe(200);
    await expect(setPassword(b.db, 'nobody', 'recovered password')).rejects.toThrow(/no user/);
  });
});
