import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { resetSetupToken } from '../../../gateway/auth/index.ts';
import { ADMIN, closeBenches, cookieFrom, startBench } from './harness.ts';

afterEach(closeBenches);

describe('first-admin setup with a one-time token', () => {
  it('starts with no admin, no default password, and a 32-byte base64url setup token of which only the hash is stored', async () => {
    const b = await startBench();
    expect(b.auth.needsSetup()).toBe(true);
    expect((await b.call('/api/setup/status')).body).toEqual({ needed: true });
    const token = b.auth.setupToken()!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    const rows = b.db.prepare('SELECT * FROM auth_setup').all() as { token_hash: string }[];
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(b.db.prepare('SELECT COUNT(*) AS n FROM auth_users').get()).toEqual({ n: 0 });
    // Nobody can log in before setup: there is no built-in account.
    for (const [u, p] of [['admin', 'admin'], ['admin', 'password1234'], ['root', ''], ['portier', 'portier']]) {
      expect((await b.call('/api/auth/login', { body: { username: u, password: p } })).status).toBe(401);
    }
  });

  it('a wrong or missing token is refused and does not use up the real one', async () => {
    const b = await startBench();
    const token = b.auth.setupToken()!;
    const wrong = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    for (const t of [wrong, '', undefined, token + 'x']) {
      const r = await b.call('/api/setup', { body: { token: t, ...ADMIN } });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ error: 'invalid_setup_token' });
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    expect(b.auth.needsSetup()).toBe(true);
    expect(b.audit.filter((e) => e.action === 'auth.setup_failed')).toHaveLength(4);
    expect((await b.call('/api/setup', { body: { token, ...ADMIN } })).status).toBe(201);
  });

  it('the token works once and never again; setup logs the admin in and is audited', async () => {
    const b = await startBench();
    const token = b.auth.setupToken()!;
    const r = await b.call('/api/setup', { body: { token, ...ADMIN } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ user: 'root', role: 'admin' });
    expect(typeof r.body.csrfToken).toBe('string');
    const me = await b.call('/api/auth/session', { cookie: cookieFrom(r) });
    expect(me.body).toMatchObject({ user: 'root', role: 'admin', csrfToken: r.body.csrfToken });
    expect(b.audit).toContainEqual(expect.objectContaining({ actor: 'root', action: 'auth.setup', target: 'root' }));

    expect(b.auth.needsSetup()).toBe(false);
    expect(b.auth.setupToken()).toBeNull();
    expect((await b.call('/api/setup/status')).body).toEqual({ needed: false });
    expect(b.db.prepare('SELECT COUNT(*) AS n FROM auth_setup').get()).toEqual({ n: 0 });
    const again = await b.call('/api/setup', { body: { token, username: 'mallory', password: 'another long password' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'setup_done' });
    expect(b.db.prepare("SELECT username FROM auth_users").all()).toEqual([{ username: 'root' }]);
    // After a restart the used token is still dead and no new one is issued.
    await b.restart();
    expect(b.auth.setupToken()).toBeNull();
    expect((await b.call('/api/setup', { body: { token, username: 'mallory', password: 'another long password' } })).status).toBe(409);
    expect(resetSetupToken(b.db)).toBeNull();
  });

  it('two setups racing with the same token: exactly one admin is made', async () => {
    const b = await startBench();
    const token = b.auth.setupToken()!;
    const rs = await Promise.all(
      ['alice', 'bob', 'carol'].map((u) => b.call('/api/setup', { body: { token, username: u, password: 'a long enough password' } })),
    );
    expect(rs.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(b.db.prepare('SELECT COUNT(*) AS n FROM auth_users').get()).toEqual({ n: 1 });
  });

  it('a restart before setup issues a new token and kills the old one; the CLI reset does too', async () => {
    const b = await startBench();
    const first = b.auth.setupToken()!;
    await b.restart();
    const second = b.auth.setupToken()!;
    expect(second).not.toBe(first);
    expect((await b.call('/api/setup', { body: { token: first, ...ADMIN } })).status).toBe(403);
    const third = resetSetupToken(b.db)!;
    expect(third).not.toBe(second);
    expect(b.auth.setupToken()).toBeNull(); // the running gateway knows its own token is stale
    expect((await b.call('/api/setup', { body: { token: second, ...ADMIN } })).status).toBe(403);
    expect((await b.call('/api/setup', { body: { token: third, ...ADMIN } })).status).toBe(201);
  });

  it('setup enforces the password policy without spending the token, and refuses cross-site posts', async () => {
    const b = await startBench();
    const token = b.auth.setupToken()!;
    let r = await b.call('/api/setup', { body: { token, username: 'root', password: 'short' } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'password_too_short' });
    r = await b.call('/api/setup', { body: { token, username: 'bad name!', password: 'long enough password' } });
    expect(r.body).toMatchObject({ error: 'invalid_username' });
    r = await b.call('/api/setup', { body: { token, ...ADMIN }, headers: { origin: 'http://evil.example' } });
    expect(r.status).toBe(403);
    r = await b.call('/api/setup', { raw: `token=${token}&username=root&password=correct+horse+battery`, contentType: 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(415);
    expect(b.auth.needsSetup()).toBe(true);
    expect((await b.call('/api/setup', { body: { token, ...ADMIN } })).status).toBe(201);
  });
});
