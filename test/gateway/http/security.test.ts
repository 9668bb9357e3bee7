/** The API's gates: authentication, roles, CSRF, cross-site form posts, body limits, error hygiene, headers. */
import { describe, expect, it } from 'vitest';
import { apiSuite } from './harness.ts';

describe('gateway API security', () => {
  const start = apiSuite();

  it('serves /api/health without auth, with security headers and no-store', async () => {
    const api = await start({ health: () => ({ broker: 'connected' }) });
    const r = await api.call(null, '/api/health');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', broker: 'connected' });
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });

  it('refuses every other /api route without a session (401), and lets a viewer read', async () => {
    const api = await start();
    for (const path of ['/api/people', '/api/groups', '/api/doors', '/api/devices', '/api/audit', '/api/audit.csv', '/api/people/x']) {
      const r = await api.call(null, path);
      expect(r.status, path).toBe(401);
      expect(await r.json()).toMatchObject({ error: 'unauthenticated' });
    }
    expect((await api.call(null, '/api/people', { method: 'POST', json: { name: 'Eve' } })).status).toBe(401);
    expect((await api.call('viewer', '/api/people')).status).toBe(200);
    expect(api.store.people.list().total).toBe(0);
  });

  it('a viewer cannot change anything: 403, and the unlock command is never sent', async () => {
    const api = await start();
    api.store.doors.create({ id: 'front' });
    api.store.devices.create({ id: 'dev-1', doorId: 'front' });
    const r = await api.call('viewer', '/api/devices/dev-1/unlock', { method: 'POST', json: { reason: 'let me in' } });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: 'forbidden' });
    expect(api.commands).toEqual([]);
    expect((await api.call('viewer', '/api/people', { method: 'POST', json: { name: 'Eve' } })).status).toBe(403);
    expect((await api.call('viewer', '/api/doors/front', { method: 'DELETE' })).status).toBe(403);
    expect(api.store.people.list().total).toBe(0);
    expect(api.store.doors.get('front')).toBeDefined();
    expect(api.store.audit.count({ kind: 'admin' })).toBe(0);
  });

  it('an admin request without a valid CSRF token is refused before the handler runs', async () => {
    const api = await start();
    api.store.doors.create({ id: 'front' });
    api.store.devices.create({ id: 'dev-1', doorId: 'front' });
    const r = await api.call('admin-nocsrf', '/api/devices/dev-1/unlock', { method: 'POST', json: { reason: 'courier' } });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: 'csrf' });
    expect(api.commands).toEqual([]);
    expect((await api.call('admin-nocsrf', '/api/people', { method: 'POST', json: { name: 'Eve' } })).status).toBe(403);
    expect(api.store.people.list().total).toBe(0);
    // Reads need no CSRF token.
    expect((await api.call('admin-nocsrf', '/api/people')).status).toBe(200);
  });

  it('refuses cross-site form posts (urlencoded, text/plain) with 415, even with a session, before auth routes too', async () => {
    const api = await start();
    const form = await api.call('admin', '/api/people', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Eve' });
    expect(form.status).toBe(415);
    const text = await api.call('admin', '/api/people', { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '{"name":"Eve"}' });
    expect(text.status).toBe(415);
    const login = await api.call(null, '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=a&password=b' });
    expect(login.status).toBe(415);
    expect(api.auth.handled).toEqual([]);
    // Multipart is only for photo uploads.
    const fd = new FormData();
    fd.set('name', 'Eve');
    expect((await api.call('admin', '/api/people', { method: 'POST', body: fd })).status).toBe(415);
    expect(api.store.people.list().total).toBe(0);
    // JSON to an auth route reaches the auth module.
    expect((await api.call(null, '/api/auth/ping', { method: 'POST', json: {} })).status).toBe(200);
    expect(api.auth.handled).toEqual(['/api/auth/ping']);
  });

  it('answers unknown routes 404, wrong methods 405 with Allow, bad JSON 400, oversized bodies 413', async () => {
    const api = await start();
    expect((await api.call('admin', '/api/nothing')).status).toBe(404);
    const r405 = await api.call('admin', '/api/people', { method: 'PUT', json: {} });
    expect(r405.status).toBe(405);
    expect(r405.headers.get('allow')).toBe('GET, POST');
    const bad = await api.call('admin', '/api/people', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_json' });
    const big = await api.call('admin', '/api/people', { method: 'POST', json: { name: 'x'.repeat(100 * 1024) } });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: 'too_large' });
    expect(api.store.people.list().total).toBe(0);
  });

  it('never leaks internals in a 500', async () => {
    const api = await start({
      command: async () => {
        throw new Error('secret internals at /srv/portier/keys');
      },
    });
    api.store.devices.create({ id: 'dev-1' });
    const r = await api.call('admin', '/api/devices/dev-1/resync', { method: 'POST' });
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal', message: 'internal error; see the gateway log' });
    expect(text).not.toMatch(/secret|srv|at /);
  });

  it('serves /metrics, behind a bearer token when one is configured', async () => {
    const open = await start();
    const m = await open.call(null, '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await m.text()).toContain('portier_up 1');
    const locked = await start({ config: { metricsToken: 's3cret' } });
    expect((await locked.call(null, '/metrics')).status).toBe(401);
    expect((await locked.call(null, '/metrics', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await locked.call(null, '/metrics', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });
});
