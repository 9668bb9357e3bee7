/** People, groups and doors over HTTP: validation, register changes reaching devices, audit of every admin action. */
import { describe, expect, it } from 'vitest';
import { apiSuite } from './harness.ts';
import { vec } from '../store/helpers.ts';

describe('gateway API: people, groups, doors', () => {
  const start = apiSuite();

  it('creates, reads, updates, lists and deactivates people; each change notifies devices and is audited with the actor', async () => {
    const api = await start();
    await api.call('admin', '/api/doors', { method: 'POST', json: { id: 'front', name: 'Front door' } });
    await api.call('admin', '/api/groups', { method: 'POST', json: { id: 'staff', name: 'Staff', schedules: [{ door: 'front', days: ['mon'], from: '08:00', to: '18:00' }] } });
    const changesBefore = api.registerChanges();
    const created = await api.call('admin', '/api/people', {
      method: 'POST',
      json: { name: 'Grace Hopper', employeeNo: 'E-1', groups: ['staff'], validUntil: '2030-12-31', schedules: [{ door: 'front', days: ['sat'], from: '10:00', to: '12:00' }] },
    });
    expect(created.status).toBe(201);
    const p = await created.json();
    expect(p).toMatchObject({ name: 'Grace Hopper', employeeNo: 'E-1', active: true, groups: ['staff'], validUntil: '2030-12-31', templates: 0 });
    expect(p.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(api.registerChanges()).toBe(changesBefore + 1);

    const patched = await api.call('admin', `/api/people/${p.id}`, { method: 'PATCH', json: { name: 'Grace M. Hopper' } });
    expect(await patched.json()).toMatchObject({ name: 'Grace M. Hopper', employeeNo: 'E-1' });
    const off = await api.call('admin', `/api/people/${p.id}/deactivate`, { method: 'POST' });
    expect(await off.json()).toMatchObject({ active: false });
    expect(api.registerChanges()).toBe(changesBefore + 3);
    expect((await (await api.call('viewer', '/api/people?active=false')).json()).items.map((x: { id: string }) => x.id)).toEqual([p.id]);
    expect((await (await api.call('viewer', '/api/people?q=hopper&group=staff')).json()).total).toBe(1);
    expect((await (await api.call('viewer', '/api/people?expiringBefore=2031-01-01')).json()).total).toBe(1);
    expect((await (await api.call('viewer', '/api/people?expiringBefore=2030-01-01')).json()).total).toBe(0);
    const bad = await api.call('viewer', '/api/people?limit=0&active=maybe');
    expect(bad.status).toBe(400);
    expect((await bad.json()).problems.map((x: { path: string }) => x.path).sort()).toEqual(['active', 'limit']);

    const actions = api.store.audit.search({ kind: 'admin', limit: 100 }).items.map((e) => [e.actor, e.reason, e.target]);
    expect(actions).toEqual([
      ['alice', 'person.deactivate', p.id],
      ['alice', 'person.update', p.id],
      ['alice', 'person.create', p.id],
      ['alice', 'group.create', 'staff'],
      ['alice', 'door.create', 'front'],
    ]);
  });

  it('reports every validation problem at once', async () => {
    const api = await start();
    const r = await api.call('admin', '/api/people', {
      method: 'POST',
      json: { name: '', validFrom: 'next week', groups: ['nope'], schedules: [{ door: 'front', days: ['funday'], from: '9am', to: '17:00' }], extra: 1 },
    });
    expect(r.status).toBe(400);
    const body = await r.json();
    expect(body.error).toBe('invalid');
    const paths = body.problems.map((x: { path: string }) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'validFrom', 'schedules.0.days.0', 'schedules.0.from']));
    expect(paths.length).toBeGreaterThanOrEqual(5);
    // References are checked too, all at once.
    const refs = await api.call('admin', '/api/people', { method: 'POST', json: { name: 'X', groups: ['nope'], schedules: [{ door: 'front', days: ['mon'], from: '09:00', to: '17:00' }] } });
    expect(refs.status).toBe(400);
    expect((await refs.json()).problems.map((x: { path: string }) => x.path)).toEqual(['groups.0', 'schedules.0.door']);
    expect(api.store.people.list().total).toBe(0);
    expect(api.store.audit.count({ kind: 'admin' })).toBe(0);
    // Conflicts are 409.
    await api.call('admin', '/api/people', { method: 'POST', json: { name: 'A', employeeNo: 'E1' } });
    expect((await api.call('admin', '/api/people', { method: 'POST', json: { name: 'B', employeeNo: 'E1' } })).status).toBe(409);
    expect((await api.call('admin', '/api/people/ghost', { method: 'PATCH', json: { name: 'B' } })).status).toBe(404);
  });

  it('DELETE removes the person and their templates everywhere and tombstones the register', async () => {
    const api = await start();
    const p = await (await api.call('admin', '/api/people', { method: 'POST', json: { name: 'Leaver' } })).json();
    api.store.templates.add(p.id, vec(1), { source: 'upload' });
    api.store.templates.add(p.id, vec(2), { source: 'upload' });
    const detail = await (await api.call('viewer', `/api/people/${p.id}`)).json();
    expect(detail.templates).toBe(2);
    expect(detail.templateList).toHaveLength(2);
    expect(JSON.stringify(detail)).not.toContain('embedding');
    const head = api.store.register.head();
    const changes = api.registerChanges();
    const r = await api.call('admin', `/api/people/${p.id}`, { method: 'DELETE' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ deleted: true, id: p.id, templatesRemoved: 2 });
    expect(api.store.people.get(p.id)).toBeUndefined();
    expect(api.store.db.prepare('SELECT count(*) FROM templates WHERE person_id = ?').pluck().get(p.id)).toBe(0);
    expect(api.store.register.changesAfter(head, 10)).toEqual([expect.objectContaining({ kind: 'person', entityId: p.id, deleted: true })]);
    expect(api.registerChanges()).toBe(changes + 1);
    expect(api.store.audit.search({ kind: 'admin', reason: 'person.delete' }).items[0]).toMatchObject({ actor: 'alice', personId: p.id });
    expect((await api.call('admin', `/api/people/${p.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('removes one template; groups and doors CRUD with conflicts', async () => {
    const api = await start();
    const p = await (await api.call('admin', '/api/people', { method: 'POST', json: { name: 'A' } })).json();
    const t = api.store.templates.add(p.id, vec(1), { source: 'upload' });
    expect((await api.call('admin', `/api/people/other/templates/${t.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await api.call('admin', `/api/people/${p.id}/templates/${t.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(api.store.templates.meta(p.id)).toEqual([]);

    expect((await api.call('admin', '/api/doors', { method: 'POST', json: { id: 'Front Door' } })).status).toBe(400);
    expect((await api.call('admin', '/api/doors', { method: 'POST', json: { id: 'front' } })).status).toBe(201);
    expect((await api.call('admin', '/api/doors', { method: 'POST', json: { id: 'front' } })).status).toBe(409);
    const g = await (await api.call('admin', '/api/groups', { method: 'POST', json: { name: 'Cleaners', schedules: [{ door: 'front', days: ['sun'], from: '20:00', to: '02:00' }] } })).json();
    await api.call('admin', `/api/people/${p.id}`, { method: 'PATCH', json: { groups: [g.id] } });
    expect((await (await api.call('viewer', `/api/groups/${g.id}`)).json()).memberIds).toEqual([p.id]);
    expect((await api.call('admin', '/api/doors/front', { method: 'DELETE' })).status).toBe(409);
    const head = api.store.register.head();
    expect((await api.call('admin', `/api/groups/${g.id}`, { method: 'PATCH', json: { schedules: [] } })).status).toBe(200);
    expect(api.store.register.changesAfter(head, 10).map((c) => c.entityId).sort()).toEqual([g.id, p.id].sort());
    expect((await api.call('admin', `/api/groups/${g.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await (await api.call('viewer', `/api/people/${p.id}`)).json()).groups).toEqual([]);
    expect((await api.call('admin', '/api/doors/front', { method: 'PATCH', json: { name: 'Main entrance' } })).status).toBe(200);
    expect((await (await api.call('viewer', '/api/doors')).json()).items).toEqual([expect.objectContaining({ id: 'front', name: 'Main entrance', devices: [] })]);
    expect((await api.call('admin', '/api/doors/front', { method: 'DELETE' })).status).toBe(200);
  });
});
