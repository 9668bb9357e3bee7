/** Devices (provision, state, commands) and the audit log (search, paging, CSV) over HTTP. */
import { describe, expect, it } from 'vitest';
import { apiSuite } from './harness.ts';

describe('gateway API: devices', () => {
  const start = apiSuite();

  it('provisions through the sync layer, returns the bundle once, and never writes it to the audit log', async () => {
    const api = await start();
    api.store.doors.create({ id: 'front' });
    const bad = await api.call('admin', '/api/devices', { method: 'POST', json: { id: 'Bad Id!', doorId: 'nowhere' } });
    expect(bad.status).toBe(400);
    expect((await api.call('admin', '/api/devices', { method: 'POST', json: { id: 'dev-1', doorId: 'nowhere' } })).status).toBe(400);
    expect(api.provisions).toEqual([]);
    const r = await api.call('admin', '/api/devices', { method: 'POST', json: { id: 'dev-1', name: 'Front reader', doorId: 'front' } });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ deviceId: 'dev-1', bundle: 'portier-join:SECRET-BUNDLE', mosquitto: { passwordLine: expect.stringContaining('dev-1:') } });
    expect(api.provisions).toEqual([{ deviceId: 'dev-1', opts: { name: 'Front reader', doorId: 'front' } }]);
    expect((await api.call('admin', '/api/devices', { method: 'POST', json: { id: 'dev-1' } })).status).toBe(409);
    const rec = api.store.audit.search({ kind: 'admin', reason: 'device.provision' }).items;
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ actor: 'alice', deviceId: 'dev-1', target: 'dev-1' });
    expect(JSON.stringify(api.store.audit.search({ limit: 1000 }).items)).not.toContain('SECRET');
  });

  it('lists devices with online state, versions, gallery, outbox, door state and sync lag, without credential hashes', async () => {
    const api = await start();
    api.store.doors.create({ id: 'front' });
    api.store.devices.create({ id: 'dev-1', doorId: 'front', brokerPasswordHash: 'scrypt$secret-hash', joinSecretHash: 'join-secret-hash' });
    api.store.people.create({ name: 'A' });
    api.store.people.create({ name: 'B' });
    api.store.devices.update('dev-1', {
      online: true,
      lastSeen: Date.parse('2026-03-01T10:00:00Z'),
      cursor: 1,
      status: { door: { state: 'locked', open: false }, camera: { status: 'up' }, gallerySize: 12, outboxDepth: 3, versions: { app: '0.1.0', models: 'int8' } },
    });
    api.store.devices.setKeys('dev-1', 'sign', 'seal');
    const text = await (await api.call('viewer', '/api/devices')).text();
    expect(text).not.toMatch(/secret-hash|join-secret/);
    const body = JSON.parse(text);
    expect(body.registerHead).toBe(2);
    expect(body.items[0]).toMatchObject({
      id: 'dev-1',
      doorId: 'front',
      online: true,
      joined: true,
      lastSeen: '2026-03-01T10:00:00.000Z',
      versions: { app: '0.1.0' },
      gallerySize: 12,
      outboxDepth: 3,
      door: { state: 'locked' },
      camera: { status: 'up' },
      sync: { cursor: 1, behind: 1 },
    });
    expect((await api.call('viewer', '/api/devices/dev-9')).status).toBe(404);
  });

  it('remote unlock: admin only, reason required, command sent with the actor, recorded with the reason and outcome', async () => {
    const api = await start();
    api.store.doors.create({ id: 'front' });
    api.store.devices.create({ id: 'dev-1', doorId: 'front' });
    const noReason = await api.call('admin', '/api/devices/dev-1/unlock', { method: 'POST', json: {} });
    expect(noReason.status).toBe(400);
    expect((await noReason.json()).problems[0].path).toBe('reason');
    expect((await api.call('admin', '/api/devices/dev-1/unlock', { method: 'POST', json: { reason: '  ' } })).status).toBe(400);
    expect(api.commands).toEqual([]);
    expect((await api.call('admin', '/api/devices/ghost/unlock', { method: 'POST', json: { reason: 'courier at the door' } })).status).toBe(404);
    const ok = await api.call('admin', '/api/devices/dev-1/unlock', { method: 'POST', json: { reason: 'courier at the door' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, result: { done: true } });
    expect(api.commands).toEqual([{ deviceId: 'dev-1', command: 'unlock', args: { reason: 'courier at the door' }, actor: 'alice' }]);
    const rec = api.store.audit.search({ deviceId: 'dev-1', kind: 'admin' }).items;
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ actor: 'alice', reason: 'device.unlock', body: { details: { reason: 'courier at the door', ok: true, door: 'front', status: 200 } } });
  });

  it('a command the device does not carry out is a 502, still audited; resync and enrol-here go through the same path', async () => {
    const api = await start({ commandResult: { ok: false, error: 'no response from dev-1 within 5000 ms' } });
    api.store.devices.create({ id: 'dev-1' });
    const r = await api.call('admin', '/api/devices/dev-1/unlock', { method: 'POST', json: { reason: 'fire drill' } });
    expect(r.status).toBe(502);
    expect(await r.json()).toMatchObject({ ok: false, error: 'command_failed', message: /no response/ });
    expect(api.store.audit.search({ kind: 'admin' }).items[0].body).toMatchObject({ details: { ok: false, error: /no response/, reason: 'fire drill' } });
    expect((await api.call('admin', '/api/devices/dev-1/enrol-here', { method: 'POST', json: { personId: 'ghost' } })).status).toBe(400);
    const p = api.store.people.create({ name: 'A' });
    await api.call('admin', '/api/devices/dev-1/enrol-here', { method: 'POST', json: { personId: p.id } });
    await api.call('admin', '/api/devices/dev-1/resync', { method: 'POST' });
    expect(api.commands.map((c) => [c.command, c.args])).toEqual([
      ['unlock', { reason: 'fire drill' }],
      ['enrol-here', { personId: p.id }],
      ['resync', {}],
    ]);
    expect(api.store.audit.search({ personId: p.id }).items[0]).toMatchObject({ reason: 'device.enrol_here', actor: 'alice' });
  });

  it('moving a device to another door requires a snapshot and notifies devices; delete decommissions', async () => {
    const removed: string[] = [];
    const api = await start({ decommission: (id) => (removed.push(id), api.store.devices.remove(id)) });
    api.store.doors.create({ id: 'front' });
    api.store.doors.create({ id: 'back' });
    api.store.devices.create({ id: 'dev-1', doorId: 'front' });
    api.store.devices.update('dev-1', { snapshotRequired: false });
    const before = api.registerChanges();
    const r = await api.call('admin', '/api/devices/dev-1', { method: 'PATCH', json: { doorId: 'back' } });
    expect(await r.json()).toMatchObject({ doorId: 'back', sync: { snapshotRequired: true } });
    expect(api.registerChanges()).toBe(before + 1);
    expect((await api.call('admin', '/api/devices/dev-1', { method: 'DELETE' })).status).toBe(200);
    expect(removed).toEqual(['dev-1']);
    expect(api.store.devices.get('dev-1')).toBeUndefined();
  });
});

describe('gateway API: audit log', () => {
  const start = apiSuite();

  function seed(api: Awaited<ReturnType<ReturnType<typeof apiSuite>>>) {
    const grace = api.store.people.create({ name: '=HYPERLINK("http://evil")' });
    const events = Array.from({ length: 30 }, (_, i) => ({
      id: `e${i}`,
      seq: i + 1,
      ts: Date.parse('2026-03-01T08:00:00Z') + i * 60_000,
      kind: 'decision',
      body: { granted: i % 3 !== 0, reason: i % 3 === 0 ? 'outside_schedule' : 'granted', personId: grace.id, door: i < 15 ? 'front' : 'back', note: 'said "hi", then left\nquickly' },
    }));
    api.store.audit.ingest('dev-1', events);
    api.store.audit.ingest('dev-2', [{ id: 'x', ts: Date.parse('2026-03-02T00:00:00Z'), kind: 'door', body: { type: 'forced_open_alarm', door: 'back' } }]);
    return grace;
  }

  it('searches by person, door, device, decision, reason and time, newest first, paged by cursor', async () => {
    const api = await start();
    const grace = seed(api);
    const get = async (q: string) => (await api.call('viewer', `/api/audit?${q}`)).json();
    const all = await get('limit=1000&total=true');
    expect(all.total).toBe(31);
    expect(all.items[0]).toMatchObject({ eventId: 'x', deviceId: 'dev-2', kind: 'door', reason: 'forced_open_alarm', time: '2026-03-02T00:00:00.000Z' });
    expect((await get(`person=${grace.id}&decision=denied&total=1`)).total).toBe(10);
    expect((await get(`person=${grace.id}`)).items[0].personName).toBe('=HYPERLINK("http://evil")');
    expect((await get('door=back&device=dev-1&total=1')).total).toBe(15);
    expect((await get('reason=outside_schedule&total=1')).total).toBe(10);
    expect((await get('from=2026-03-01T08:10:00Z&to=2026-03-01T08:20:00Z&total=1')).total).toBe(10);
    const ids: string[] = [];
    let cursor = '';
    for (let n = 0; n < 10; n++) {
      const page = await get(`device=dev-1&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      ids.push(...page.items.map((e: { eventId: string }) => e.eventId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `e${29 - i}`));
    const bad = await api.call('viewer', '/api/audit?decision=maybe&from=yesterday');
    expect(bad.status).toBe(400);
    expect((await bad.json()).problems.map((p: { path: string }) => p.path).sort()).toEqual(['decision', 'from']);
  });

  it('exports CSV with proper quoting, formula injection defused, and the same filters', async () => {
    const api = await start();
    const grace = seed(api);
    const r = await api.call('viewer', `/api/audit.csv?person=${grace.id}&decision=denied`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/attachment; filename="portier-audit-.*\.csv"/);
    const text = (await r.text()).replace(/^\ufeff/, '');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('time,device,kind,decision,reason,person_id,person_name,door,actor,target,event_id,details');
    // Header + 10 rows + the empty string after the last CRLF; the body's newline is inside quotes.
    expect(text.match(/\r\n/g)).toHaveLength(11);
    const first = lines[1];
    expect(first.startsWith('2026-03-01T08:27:00.000Z,dev-1,decision,denied,outside_schedule,')).toBe(true);
    // The name would be a formula in a spreadsheet: prefixed with ' and quoted, quotes doubled.
    expect(first).toContain(`,"'=HYPERLINK(""http://evil"")",`);
    expect(first).toContain('said \\""hi\\"", then left\\nquickly');
  });

  it('streams a large export in pages', async () => {
    const api = await start();
    const events = Array.from({ length: 2500 }, (_, i) => ({ id: `e${i}`, ts: 1_700_000_000_000 + i, kind: 'decision', body: { granted: true, reason: 'granted', door: 'front' } }));
    api.store.audit.ingest('dev-1', events);
    const text = await (await api.call('viewer', '/api/audit.csv')).text();
    expect(text.split('\r\n').filter(Boolean)).toHaveLength(2501);
    expect(new Set(text.split('\r\n').slice(1).filter(Boolean).map((l) => l.split(',')[10])).size).toBe(2500);
  });
});
