import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, addUser, closeBenches, cookieFrom, login, setupAdmin, startBench } from './harness.ts';

afterEach(closeBenches);

describe('login, session cookie, logout', () => {
  it('login sets an HttpOnly, SameSite=Strict, Path=/ session cookie (Secure only when configured) and returns the CSRF token', async () => {
    const b = await startBench();
    await setupAdmin(b);
    const { reply } = await login(b, ADMIN.username, ADMIN.password);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: 'root', role: 'admin', csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const set = String(reply.headers['set-cookie']);
    const attrs = set.split(';').map((s) => s.trim().toLowerCase());
    expect(attrs[0]).toMatch(/^portier_session=[a-z0-9_-]{43}$/i);
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=strict');
    expect(attrs).toContain('path=/');
    expect(attrs).not.toContain('secure');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(b.audit).toContainEqual(expect.objectContaining({ actor: 'root', action: 'auth.login' }));

    const s = await startBench({ secureCookies: true });
    await setupAdmin(s);
    const secure = await login(s, ADMIN.username, ADMIN.password);
    expect(String(secure.reply.headers['set-cookie']).split(';').map((x) => x.trim())).toContain('Secure');
  });

  it('the session cookie authenticates; logout ends it for good and is audited', async () => {
    const b = await startBench();
    await setupAdmin(b);
    const { cookie, csrf } = await login(b, 'ROOT', ADMIN.password); // usernames are case-insensitive
    expect((await b.call('/api/protected', { cookie })).body).toMatchObject({ user: 'root', role: 'admin' });
    const me = await b.call('/api/auth/session', { cookie });
    expect(me.body).toEqual({ user: 'root', role: 'admin', csrfToken: csrf });
    expect(await b.auth.principal({ headers: { cookie } } as never)).toEqual({ user: 'root', role: 'admin' });

    // Logout is state-changing: without the CSRF token it is refused and the session survives.
    expect((await b.call('/api/auth/logout', { method: 'POST', cookie })).status).toBe(403);
    const out = await b.call('/api/auth/logout', { method: 'POST', cookie, csrf });
    expect(out.status).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/^portier_session=;.*Max-Age=0/);
    expect(b.audit).toContainEqual(expect.objectContaining({ actor: 'root', action: 'auth.logout' }));
    expect((await b.call('/api/protected', { cookie })).status).toBe(401);
    const gone = await b.call('/api/auth/session', { cookie });
    expect(gone.status).toBe(401);
    expect(gone.body).toMatchObject({ error: 'unauthenticated', message: expect.any(String) });
  });

  it('wrong password and unknown user both answer 401 with the same message, and are audited as failures', async () => {
    const b = await startBench();
    await setupAdmin(b);
    const wrong = await login(b, 'root', 'not the password at all');
    const unknown = await login(b, 'nobody', 'not the password at all');
    for (const r of [wrong.reply, unknown.reply]) {
      expect(r.status).toBe(401);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    expect(wrong.reply.body).toEqual(unknown.reply.body);
    const fails = b.audit.filter((e) => e.action === 'auth.login_failed');
    expect(fails).toHaveLength(2);
    expect(fails[0]).toMatchObject({ actor: 'anonymous', target: 'root' });
    expect(fails[1].target).toBeUndefined(); // a mistyped password in the name field is not recorded
  });

  it('made-up, tampered or missing cookies are not sessions', async () => {
    const b = await startBench();
    const admin = await setupAdmin(b);
    const value = admin.cookie.split('=')[1];
    // The first character: the last one of base64url may hold only padding bits.
    const flipped = (value.startsWith('A') ? 'B' : 'A') + value.slice(1);
    for (const cookie of [null, 'portier_session=', `portier_session=${flipped}`, 'portier_session=' + 'A'.repeat(43), `other=${value}`]) {
      expect((await b.call('/api/protected', { cookie })).status).toBe(401);
    }
    expect((await b.call('/api/protected', { cookie: `x=1; ${admin.cookie}; y=2` })).status).toBe(200);
  });

  it('the database holds only session id hashes', async () => {
    const b = await startBench();
    const admin = await setupAdmin(b);
    const id = admin.cookie.split('=')[1];
    const rows = JSON.stringify(b.db.prepare('SELECT * FROM auth_sessions').all());
    expect(rows).not.toContain(id);
    expect(rows).not.toContain(admin.csrf);
  });

  it('sessions end after the idle timeout and after the absolute lifetime', async () => {
    const b = await startBench({ sessionIdleTimeoutMs: 10 * 60_000, sessionMaxAgeMs: 60 * 60_000 });
    const { cookie } = await setupAdmin(b);
    // Active use keeps the session alive past several idle periods...
    for (let i = 0; i < 5; i++) {
      b.clock.t += 9 * 60_000;
      expect((await b.call('/api/protected', { cookie })).status).toBe(200);
    }
    // ...but not past the absolute lifetime (60 min), although it was used 6 min ago.
    b.clock.t += 9 * 60_000;
    expect((await b.call('/api/protected', { cookie })).status).toBe(200);
    b.clock.t += 6 * 60_000;
    expect((await b.call('/api/protected', { cookie })).status).toBe(401);

    const again = await login(b, ADMIN.username, ADMIN.password);
    b.clock.t += 10 * 60_000 - 1;
    expect((await b.call('/api/protected', { cookie: again.cookie })).status).toBe(200);
    b.clock.t += 10 * 60_000;
    expect((await b.call('/api/protected', { cookie: again.cookie })).status).toBe(401);
    expect(b.db.prepare('SELECT COUNT(*) AS n FROM auth_sessions').get()).toEqual({ n: 0 });
  });

  it('password change needs the current password and ends the other sessions', async () => {
    const b = await startBench();
    const admin = await setupAdmin(b);
    await addUser(b, admin, 'vera', 'viewer password 1', 'viewer');
    const phone = await login(b, 'vera', 'viewer password 1');
    const laptop = await login(b, 'vera', 'viewer password 1');
    const body = { currentPassword: 'wrong password!!', newPassword: 'viewer password 2' };
    let r = await b.call('/api/auth/password', { body, cookie: laptop.cookie, csrf: laptop.csrf });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: 'invalid_credentials' });
    r = await b.call('/api/auth/password', { body: { ...body, currentPassword: 'viewer password 1' }, cookie: laptop.cookie });
    expect(r.status).toBe(403); // no CSRF token
    r = await b.call('/api/auth/password', { body: { currentPassword: 'viewer password 1', newPassword: 'short' }, cookie: laptop.cookie, csrf: laptop.csrf });
    expect(r.body).toMatchObject({ error: 'password_too_short' });
    r = await b.call('/api/auth/password', { body: { ...body, currentPassword: 'viewer password 1' }, cookie: laptop.cookie, csrf: laptop.csrf });
    expect(r.status).toBe(200);
    expect(b.audit).toContainEqual(expect.objectContaining({ actor: 'vera', action: 'auth.password_change', target: 'vera' }));
    expect((await b.call('/api/protected', { cookie: laptop.cookie })).status).toBe(200);
    expect((await b.call('/api/protected', { cookie: phone.cookie })).status).toBe(401);
    expect((await login(b, 'vera', 'viewer password 1')).reply.status).toBe(401);
    expect((await login(b, 'vera', 'viewer password 2')).reply.status).toBe(200);
  });

  it('bodies are limited, must be JSON objects, and unknown methods get 405', async () => {
    const b = await startBench();
    await setupAdmin(b);
    let r = await b.call('/api/auth/login', { raw: JSON.stringify({ username: 'root', password: 'x'.repeat(20_000) }) });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ error: 'body_too_large', message: expect.any(String) });
    r = await b.call('/api/auth/login', { raw: '{not json' });
    expect(r.body).toMatchObject({ error: 'invalid_json' });
    r = await b.call('/api/auth/login', { raw: '[1,2]' });
    expect(r.body).toMatchObject({ error: 'invalid_body' });
    r = await b.call('/api/auth/login', { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect((await b.call('/api/auth/unknown')).status).toBe(404); // handle() returned false
    expect(cookieFrom((await login(b, ADMIN.username, ADMIN.password)).reply)).toMatch(/^portier_session=/);
  });
});
