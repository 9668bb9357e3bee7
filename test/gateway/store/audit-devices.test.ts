/** Audit ingest exactly once, admin actions, search and paging; device records and the down sequence. */
import { describe, expect, it } from 'vitest';
import type { DeviceEventInput } from '../../../gateway/store/types.ts';
import { storeSuite } from './helpers.ts';

const decision = (id: string, ts: number, granted: boolean, personId: string | undefined, reason: string, door = 'front'): DeviceEventInput => ({
  id,
  seq: ts,
  ts,
  kind: 'decision',
  body: { device: 'dev-1', granted, reason, personId, door, score: 0.7, live: 0.9 },
});

describe('gateway store: audit log', () => {
  const suite = storeSuite();

  it('stores each device event exactly once across repeated and overlapping batches, and across reopen', () => {
    const dir = suite.dir();
    let s = suite.open(dir);
    const batch1 = Array.from({ length: 50 }, (_, i) => decision(`e${i}`, 1000 + i, i % 2 === 0, 'p1', i % 2 ? 'outside_schedule' : 'granted'));
    expect(s.audit.ingest('dev-1', batch1)).toEqual({ inserted: 50, duplicates: 0, rejected: 0 });
    expect(s.audit.ingest('dev-1', batch1)).toEqual({ inserted: 0, duplicates: 50, rejected: 0 });
    const batch2 = Array.from({ length: 50 }, (_, i) => decision(`e${i + 25}`, 1025 + i, true, 'p1', 'granted'));
    expect(s.audit.ingest('dev-1', batch2)).toEqual({ inserted: 25, duplicates: 25, rejected: 0 });
    // The same event id from another device is another event.
    expect(s.audit.ingest('dev-2', [decision('e0', 5000, false, undefined, 'unknown')]).inserted).toBe(1);
    s.close();
    s = suite.open(dir);
    expect(s.audit.ingest('dev-1', [...batch1, ...batch2])).toEqual({ inserted: 0, duplicates: 100, rejected: 0 });
    expect(s.audit.count()).toBe(76);
    expect(s.audit.count({ deviceId: 'dev-1' })).toBe(75);
  });

  it('a batch is one transaction: a failure half way stores nothing of it', () => {
    const s = suite.open(suite.dir());
    const bad = { id: 'b', ts: 2, kind: 'decision', body: { toJSON: () => { throw new Error('boom'); } } };
    expect(() => s.audit.ingest('dev-1', [decision('a', 1, true, 'p', 'granted'), bad as DeviceEventInput])).toThrow('boom');
    expect(s.audit.count()).toBe(0);
  });

  it('counts malformed events as rejected without storing them', () => {
    const s = suite.open(suite.dir());
    const r = s.audit.ingest('dev-1', [{ id: '', ts: 1, kind: 'x', body: {} }, { id: 'ok', ts: 1, kind: 'x', body: {} }, { id: 'nots', ts: NaN, kind: 'x', body: {} }]);
    expect(r).toEqual({ inserted: 1, duplicates: 0, rejected: 2 });
  });

  it('extracts searchable columns from decision, door and security events', () => {
    const s = suite.open(suite.dir());
    s.audit.ingest('dev-1', [
      decision('d1', 100, true, 'grace', 'granted', 'front'),
      decision('d2', 200, false, undefined, 'unknown', 'front'),
      { id: 'x1', ts: 300, kind: 'door', body: { type: 'forced_open_alarm', door: 'back' } },
      { id: 'x2', ts: 400, kind: 'security', body: { reason: 'bad_signature', topic: 't' } },
    ]);
    const one = (f: Parameters<typeof s.audit.search>[0]) => s.audit.search(f).items.map((e) => e.eventId);
    expect(one({ decision: 'granted' })).toEqual(['d1']);
    expect(one({ decision: 'denied' })).toEqual(['d2']);
    expect(one({ personId: 'grace' })).toEqual(['d1']);
    expect(one({ door: 'front' })).toEqual(['d2', 'd1']);
    expect(one({ reason: 'forced_open_alarm' })).toEqual(['x1']);
    expect(one({ kind: 'security', reason: 'bad_signature' })).toEqual(['x2']);
    expect(one({ from: 200, to: 400 })).toEqual(['x1', 'd2']);
    const d1 = s.audit.search({ personId: 'grace' }).items[0];
    expect(d1).toMatchObject({ deviceId: 'dev-1', seq: 100, ts: 100, kind: 'decision', decision: 'granted', reason: 'granted', door: 'front', actor: null });
    expect(d1.body).toMatchObject({ score: 0.7, live: 0.9 });
  });

  it('finds every liveness refusal under not_live, and one cue by its full reason', () => {
    const s = suite.open(suite.dir());
    s.audit.ingest('dev-1', [
      decision('a', 100, false, 'grace', 'not_live:screen_border'),
      decision('b', 200, false, 'grace', 'not_live'),
      decision('c', 300, false, 'grace', 'not_live:passive'),
      decision('d', 400, false, 'grace', 'not_liveX'),
      decision('e', 500, false, 'grace', 'unknown'),
    ]);
    const ids = (reason: string) => s.audit.search({ reason }).items.map((e) => e.eventId);
    expect(ids('not_live')).toEqual(['c', 'b', 'a']);
    expect(ids('not_live:passive')).toEqual(['c']);
  });

  it('records admin actions with the actor, searchable by actor, action and device', () => {
    const s = suite.open(suite.dir(), {}, () => 12345);
    const e = s.audit.record({ actor: 'alice', action: 'device.unlock', target: 'dev-1', deviceId: 'dev-1', details: { reason: 'courier' } });
    expect(e).toMatchObject({ kind: 'admin', actor: 'alice', reason: 'device.unlock', target: 'dev-1', ts: 12345, deviceId: 'dev-1' });
    expect(e.body).toEqual({ action: 'device.unlock', target: 'dev-1', details: { reason: 'courier' } });
    expect(s.audit.search({ actor: 'alice' }).items).toHaveLength(1);
    expect(s.audit.search({ deviceId: 'dev-1', kind: 'admin' }).items).toHaveLength(1);
    expect(() => s.audit.record({ actor: '', action: 'x' })).toThrow();
  });

  it('pages newest first with a cursor that is stable while new events arrive', () => {
    const s = suite.open(suite.dir());
    s.audit.ingest('dev-1', Array.from({ length: 25 }, (_, i) => decision(`e${i}`, 1000 + Math.floor(i / 2), true, 'p', 'granted')));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = s.audit.search({ limit: 10, cursor });
      seen.push(...page.items.map((e) => e.eventId));
      cursor = page.nextCursor ?? undefined;
      pages++;
      // Newer events arriving between pages do not shift the pages already under way.
      s.audit.ingest('dev-1', [decision(`late${pages}`, 99999 + pages, true, 'p', 'granted')]);
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen[0]).toBe('e24');
    expect(seen[24]).toBe('e0');
    expect(s.audit.search({ limit: 5, offset: 5 }).items).toHaveLength(5);
    expect(() => s.audit.search({ cursor: 'garbage' })).toThrow(/cursor/);
  });
});

describe('gateway store: devices', () => {
  const suite = storeSuite();

  it('creates, updates and lists devices; a door change requires a snapshot', () => {
    const s = suite.open(suite.dir());
    s.doors.create({ id: 'front' });
    s.doors.create({ id: 'back' });
    const d = s.devices.create({ id: 'dev-1', name: 'Front reader', doorId: 'front', brokerPasswordHash: 'scrypt$x', joinSecretHash: 'h' });
    expect(d).toMatchObject({ id: 'dev-1', doorId: 'front', downSeq: 0, cursor: null, online: false, snapshotRequired: true, signPublicKey: null });
    expect(() => s.devices.create({ id: 'dev-1' })).toThrow(/already exists/);
    expect(() => s.devices.create({ id: 'Bad/Id' })).toThrow(/must match/);
    expect(() => s.devices.create({ id: 'dev-2', doorId: 'nowhere' })).toThrow(/door nowhere does not exist/);
    s.devices.update('dev-1', { snapshotRequired: false, cursor: 42, online: true, lastSeen: 77, status: { gallerySize: 3, versions: { app: '0.1.0' } } });
    expect(s.devices.get('dev-1')).toMatchObject({ snapshotRequired: false, cursor: 42, online: true, lastSeen: 77, status: { gallerySize: 3 } });
    s.devices.update('dev-1', { doorId: 'front', name: 'Same door' });
    expect(s.devices.get('dev-1')?.snapshotRequired).toBe(false);
    s.devices.update('dev-1', { doorId: 'back' });
    expect(s.devices.get('dev-1')?.snapshotRequired).toBe(true);
    expect(s.devices.setKeys('dev-1', 'sign-pub', 'seal-pub')).toMatchObject({ signPublicKey: 'sign-pub', sealPublicKey: 'seal-pub' });
    expect(s.devices.list().map((x) => x.id)).toEqual(['dev-1']);
    expect(() => s.devices.update('ghost', { online: true })).toThrow(/does not exist/);
    expect(s.devices.remove('dev-1')).toBe(true);
    expect(s.devices.get('dev-1')).toBeUndefined();
  });

  it('nextDownSeq increments atomically and survives reopen', () => {
    const dir = suite.dir();
    let s = suite.open(dir);
    s.devices.create({ id: 'dev-1' });
    s.devices.create({ id: 'dev-2' });
    expect([s.devices.nextDownSeq('dev-1'), s.devices.nextDownSeq('dev-1'), s.devices.nextDownSeq('dev-2')]).toEqual([1, 2, 1]);
    s.close();
    s = suite.open(dir);
    expect(s.devices.nextDownSeq('dev-1')).toBe(3);
    expect(s.devices.get('dev-1')?.downSeq).toBe(3);
    expect(() => s.devices.nextDownSeq('ghost')).toThrow(/does not exist/);
  });
});
