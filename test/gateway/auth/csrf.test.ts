import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, closeBenches, login, setupAdmin, startBench, type Bench } from './harness.ts';

afterEach(closeBenches);

const post = (b: Bench, cookie: string, csrf: string | undefined, headers: Record<string, string> = {}) =>
  b.call('/api/protected', { method: 'POST', cookie, csrf, headers });

describe('CSRF protection of state-changing requests', () => {
  it('same-origin request with the session CSRF token passes', async () => {
    const b = await startBench();
    const { cookie, csrf } = await setupAdmin(b);
    const host = `127.0.0.1:${b.port}`;
    expect((await post(b, cookie, csrf)).status).toBe(200);
    expect((await post(b, cookie, csrf, { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await post(b, cookie, csrf, { 'sec-fetch-site': 'none' })).status).toBe(200);
  });

  it('a missing, wrong, or other session\'s token is refused', async () => {
    const b = await startBench();
    const admin = await setupAdmin(b);
    const other = await login(b, ADMIN.username, ADMIN.password);
    expect(other.csrf).not.toBe(admin.csrf);
    expect((await post(b, admin.cookie, undefined)).status).toBe(403);
    expect((await post(b, admin.cookie, admin.csrf.slice(0, -1))).status).toBe(403);
    expect((await post(b, admin.cookie, admin.csrf + 'A')).status).toBe(403);
    expect((await post(b, admin.cookie, other.csrf)).status).toBe(403);
    expect((await post(b, admin.cookie, admin.csrf)).status).toBe(200);
  });

  it('a cross-site Origin is refused even with the right token', async () => {
    const b = await startBench();
    const { cookie, csrf } = await setupAdmin(b);
    for (const origin of ['http://evil.example', `http://127.0.0.1:${b.port + 1}`, `https://127.0.0.1:${b.port}.evil.example`, 'null']) {
      const r = await post(b, cookie, csrf, { origin });
      expect(r.status, origin).toBe(403);
    }
  });

  it('Sec-Fetch-Site cross-site or same-site is refused even with the right token', async () => {
    const b = await startBench();
    const { cookie, csrf } = await setupAdmin(b);
    expect((await post(b, cookie, csrf, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post(b, cookie, csrf, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
  });

  it('login itself refuses cross-site posts and HTML form encodings (login CSRF)', async () => {
    const b = await startBench();
    await setupAdmin(b);
    const body = { username: ADMIN.username, password: ADMIN.password };
    expect((await b.call('/api/auth/login', { body, headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await b.call('/api/auth/login', { body, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    const form = await b.call('/api/auth/login', {
      raw: `username=${ADMIN.username}&password=${encodeURIComponent(ADMIN.password)}`,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(form.headers['set-cookie']).toBeUndefined();
    const text = await b.call('/api/auth/login', { raw: JSON.stringify(body), contentType: 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('user management and logout endpoints also demand the token', async () => {
    const b = await startBench();
    const { cookie, csrf } = await setupAdmin(b);
    const create = { username: 'vera', password: 'viewer password 1', role: 'viewer' };
    expect((await b.call('/api/users', { body: create, cookie })).status).toBe(403);
    expect((await b.call('/api/users', { body: create, cookie, csrf, headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect(b.db.prepare("SELECT COUNT(*) AS n FROM auth_users WHERE username = 'vera'").get()).toEqual({ n: 0 });
    expect((await b.call('/api/users', { body: create, cookie, csrf })).status).toBe(201);
    expect((await b.call('/api/users/vera', { method: 'DELETE', cookie })).status).toBe(403);
    expect((await b.call('/api/users/vera', { method: 'DELETE', cookie, csrf })).status).toBe(200);
  });
});
