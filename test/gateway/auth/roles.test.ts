import { afterEach, describe, expect, it } from 'vitest';
import { addUser, closeBenches, login, setupAdmin, startBench } from './harness.ts';

afterEach(closeBenches);

describe('roles: admin and viewer', () => {
  it('a viewer reads but cannot manage users or reach admin routes; an admin can', async () => {
    const b = await startBench();
    const admin = await setupAdmin(b);
    await addUser(b, admin, 'vera', 'viewer password 1', 'viewer');
    const vera = await login(b, 'vera', 'viewer password 1');
    expect(vera.reply.body).toMatchObject({ user: 'vera', role: 'viewer' });

    expect((await b.call('/api/protected', { cookie: vera.cookie })).body).toMatchObject({ user: 'vera', role: 'viewer' });
    expect((await b.call('/api/admin-only', { cookie: vera.cookie })).status).toBe(403);
    expect((await b.call('/api/admin-only', { cookie: admin.cookie })).status).toBe(200);

    const list = await b.call('/api/users', { cookie: vera.cookie });
    expect(list.status).toBe(403);
    expect(list.body).toMatchObject({ error: 'forbidden' });
    const create = await b.call('/api/users', { body: { username: 'eve', password: 'sneaky password 1', role: 'admin' }, cookie: vera.cookie, csrf: vera.csrf });
    expect(create.status).toBe(403);
    expect((await b.call('/api/users/root', { method: 'DELETE', cookie: vera.cookie, csrf: vera.csrf })).status).toBe(403);
    expect(b.db.prepare('SELECT username FROM auth_users ORDER BY username').all()).toEqual([{ username: 'root' }, { username: 'vera' }]);

    const all = await b.call('/api/users', { cookie: admin.cookie });
    expect(all.body.users.map((u: { username: string; role: string }) => [u.username, u.role])).toEqual([
      ['root', 'admin'],
      ['vera', 'viewer'],
    ]);
    expect(JSON.stringify(all.body)).not.toMatch(/scrypt|hash/);
    expect(b.audit).toContainEqual(expect.objectContaining({ actor: 'root', action: 'user.create', target: 'vera', details: { role: 'viewer' } }));
  });

  it('unauthenticated calls are refused everywhere', async () => {
    const b = await startBench();
    await setupAdmin(b);
    expect((await b.call('/api/users')).status).toBe(401);
    expect((await b.call('/api/users', { body: { username: 'x', password: 'long enough password', role: 'admin' } })).status).toBe(401);
    expect((await b.call('/api/users/root', { method: 'DELETE' })).status).toBe(401);
    expect((await b.call('/api/auth/password', { body: { currentPassword: 'a', newPassword: 'b' } })).status).toBe(401);
    expect((await b.call('/api/auth/logout', { method: 'POST' })).status).toBe(401);
    expect((await b.call('/api/protected')).status).toBe(401);
  });

  it('user creation validates name, password and role, and refuses duplicates', async () => {
    const b = await startBench();
    const admin = await setupAdmin(b);
    const make = (body: unknown) => b.call('/api/users', { body, cookie: admin.cookie, csrf: admin.csrf });
    expect((await make({ username: 'ann', password: '11 chars!!!', role: 'viewer' })).body).toMatchObject({ error: 'password_too_short' });
    expect((await make({ username: 'ann', password: 'twelve chars', role: 'owner' })).body).toMatchObject({ error: 'invalid_role' });
    expect((await make({ username: '../ann', password: 'twelve chars', role: 'viewer' })).body).toMatchObject({ error: 'invalid_username' });
    expect((await make({ username: 'ann', password: 'twelve chars', role: 'viewer' })).status).toBe(201);
    expect((await make({ username: 'ANN', password: 'twelve chars', role: 'admin' })).status).toBe(409);
  });

  it('the last admin cannot be deleted; deleting a user ends their sessions; deletions are audited', async () => {
    const b = await startBench();
    const root = await setupAdmin(b);
    let r = await b.call('/api/users/root', { method: 'DELETE', cookie: root.cookie, csrf: root.csrf });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: 'last_admin' });

    await addUser(b, root, 'ada', 'second admin pw', 'admin');
    await addUser(b, root, 'vera', 'viewer password 1', 'viewer');
    const vera = await login(b, 'vera', 'viewer password 1');
    r = await b.call('/api/users/vera', { method: 'DELETE', cookie: root.cookie, csrf: root.csrf });
    expect(r.status).toBe(200);
    expect((await b.call('/api/protected', { cookie: vera.cookie })).status).toBe(401);
    expect((await b.call('/api/users/vera', { method: 'DELETE', cookie: root.cookie, csrf: root.csrf })).status).toBe(404);

    // With two admins one may go (even oneself), then the other is the last.
    const ada = await login(b, 'ada', 'second admin pw');
    r = await b.call('/api/users/root', { method: 'DELETE', cookie: ada.cookie, csrf: ada.csrf });
    expect(r.status).toBe(200);
    r = await b.call('/api/users/ada', { method: 'DELETE', cookie: ada.cookie, csrf: ada.csrf });
    expect(r.status).toBe(409);
    expect(b.auth.needsSetup()).toBe(false);
    expect(b.audit.filter((e) => e.action === 'user.delete').map((e) => [e.actor, e.target])).toEqual([
      ['root', 'vera'],
      ['ada', 'root'],
    ]);
  });
});
