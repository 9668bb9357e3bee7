/** People, groups, doors and the register log devices sync from. */
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../gateway/store/types.ts';
import { storeSuite, vec } from './helpers.ts';

const weekdays = { door: '*', days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[], from: '07:00', to: '19:00' };

describe('gateway store: people, groups and the register log', () => {
  const suite = storeSuite();

  it('creates people with generated or given ids, validates everything at once, and keeps employee numbers unique', () => {
    const s = suite.open(suite.dir());
    const a = s.people.create({ name: 'Grace Hopper', employeeNo: 'E-1', schedules: [weekdays], validUntil: '2030-01-31' });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).toMatchObject({ name: 'Grace Hopper', active: true, validFrom: null, validUntil: '2030-01-31', groups: [], schedules: [weekdays] });
    expect(s.people.create({ id: 'eileen', name: 'Eileen' }).id).toBe('eileen');
    try {
      s.people.create({ name: '', validFrom: 'tomorrow', schedules: [{ door: '*', days: ['xyz'], from: '25:00', to: '07:00' }] } as never);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(StoreError);
      const paths = (err as StoreError).problems.map((p) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['name', 'validFrom', 'schedules.0.days.0', 'schedules.0.from']));
    }
    expect(() => s.people.create({ name: 'Twin', employeeNo: 'E-1' })).toThrow(/employee number "E-1"/);
    expect(() => s.people.create({ id: 'eileen', name: 'Again' })).toThrow(expect.objectContaining({ code: 'conflict' }));
    expect(() => s.people.create({ name: 'X', groups: ['nope'], schedules: [{ ...weekdays, door: 'back' }] })).toThrow(
      expect.objectContaining({ code: 'invalid', problems: [expect.objectContaining({ path: 'groups.0' }), expect.objectContaining({ path: 'schedules.0.door' })] }),
    );
    expect(() => s.people.update(a.id, { validFrom: '2031-01-01T00:00:00Z' })).toThrow(/validUntil is before validFrom/);
  });

  it('lists with search, group, active and expiry filters, paged', () => {
    const s = suite.open(suite.dir());
    s.groups.create({ id: 'staff', name: 'Staff' });
    s.people.create({ name: 'Grace Hopper', employeeNo: 'N-100', groups: ['staff'] });
    s.people.create({ name: 'Eileen Collins', employeeNo: 'N-200', active: false, validUntil: '2026-02-01T00:00:00Z' });
    s.people.create({ name: 'Ada Lovelace', groups: ['staff'], validUntil: '2027-01-01' });
    s.people.create({ name: '100% Percent' });
    const names = (f: Parameters<typeof s.people.list>[0]) => s.people.list(f).items.map((p) => p.name);
    expect(names({})).toEqual(['100% Percent', 'Ada Lovelace', 'Eileen Collins', 'Grace Hopper']);
    expect(names({ q: 'HOP' })).toEqual(['Grace Hopper']);
    expect(names({ q: 'n-2' })).toEqual(['Eileen Collins']);
    expect(names({ q: '%' })).toEqual(['100% Percent']);
    expect(names({ group: 'staff' })).toEqual(['Ada Lovelace', 'Grace Hopper']);
    expect(names({ active: false })).toEqual(['Eileen Collins']);
    expect(names({ expiringBefore: Date.parse('2026-06-01T00:00:00Z') })).toEqual(['Eileen Collins']);
    expect(names({ expiringBefore: Date.parse('2028-01-01T00:00:00Z') })).toEqual(['Ada Lovelace', 'Eileen Collins']);
    const page = s.people.list({ limit: 2, offset: 2 });
    expect(page).toMatchObject({ total: 4, limit: 2, offset: 2 });
    expect(page.items.map((p) => p.name)).toEqual(['Eileen Collins', 'Grace Hopper']);
    expect([...s.people.all()]).toHaveLength(4);
  });

  it('every people and template change advances the register; the log holds one row per entity, in seq order', () => {
    const s = suite.open(suite.dir());
    expect(s.register.head()).toBe(0);
    const a = s.people.create({ name: 'A' });
    const b = s.people.create({ name: 'B' });
    expect(s.register.head()).toBe(2);
    s.people.update(a.id, { active: false });
    s.templates.add(b.id, vec(1), { source: 'upload' });
    const changes = s.register.changesAfter(0, 100);
    expect(changes.map((c) => [c.entityId, c.seq, c.deleted])).toEqual([
      [a.id, 3, false],
      [b.id, 4, false],
    ]);
    expect(s.register.changesAfter(3, 100).map((c) => c.entityId)).toEqual([b.id]);
    expect(s.register.changesAfter(0, 1)).toHaveLength(1);
    expect(s.register.changesAfter(4, 100)).toEqual([]);
  });

  it('a failed change leaves neither the change nor a register entry', () => {
    const s = suite.open(suite.dir());
    const a = s.people.create({ name: 'A', employeeNo: 'E1' });
    const b = s.people.create({ name: 'B' });
    const head = s.register.head();
    expect(() => s.people.update(b.id, { employeeNo: 'E1' })).toThrow();
    expect(s.register.head()).toBe(head);
    expect(s.people.get(b.id)?.employeeNo).toBeNull();
    expect(s.people.get(a.id)?.employeeNo).toBe('E1');
  });

  it('deleting a person removes templates and photos and leaves a tombstone', () => {
    const s = suite.open(suite.dir(), { keepPhotos: true });
    const p = s.people.create({ name: 'Gone' });
    s.templates.add(p.id, vec(1), { source: 'upload' });
    s.photos.add(p.id, Buffer.from('photo'));
    const before = s.register.head();
    expect(s.people.remove(p.id)).toBe(true);
    expect(s.people.get(p.id)).toBeUndefined();
    expect(s.templates.list(p.id)).toEqual([]);
    expect(s.db.prepare('SELECT count(*) FROM templates').pluck().get()).toBe(0);
    expect(s.photos.count(p.id)).toBe(0);
    expect(s.register.changesAfter(before, 10)).toEqual([expect.objectContaining({ kind: 'person', entityId: p.id, deleted: true, seq: before + 1 })]);
    expect(s.people.remove(p.id)).toBe(false);
  });

  it('changing a group touches the group and every member; deleting it drops it from members', () => {
    const s = suite.open(suite.dir());
    s.doors.create({ id: 'front', name: 'Front door' });
    s.groups.create({ id: 'night', name: 'Night shift' });
    const a = s.people.create({ name: 'A', groups: ['night'] });
    const b = s.people.create({ name: 'B', groups: ['night'] });
    const c = s.people.create({ name: 'C' });
    const before = s.register.head();
    s.groups.update('night', { schedules: [{ door: 'front', days: ['sat'], from: '22:00', to: '06:00' }] });
    const touched = s.register.changesAfter(before, 10).map((x) => `${x.kind}:${x.entityId}`);
    expect(touched.sort()).toEqual([`group:night`, `person:${a.id}`, `person:${b.id}`].sort());
    expect(touched).not.toContain(`person:${c.id}`);
    expect(s.groups.members('night').sort()).toEqual([a.id, b.id].sort());
    const mid = s.register.head();
    expect(s.groups.remove('night')).toBe(true);
    expect(s.people.get(a.id)?.groups).toEqual([]);
    const after = s.register.changesAfter(mid, 10);
    expect(after.find((x) => x.kind === 'group')).toMatchObject({ entityId: 'night', deleted: true });
    expect(after.filter((x) => x.kind === 'person').map((x) => x.entityId).sort()).toEqual([a.id, b.id].sort());
    expect(s.people.list({ group: 'night' }).total).toBe(0);
  });

  it('purges old tombstones and records purged_up_to; the register survives reopen', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const now = () => t;
    const dir = suite.dir();
    let s = suite.open(dir, { tombstoneRetentionDays: 30 }, now);
    const a = s.people.create({ name: 'A' });
    const b = s.people.create({ name: 'B' });
    s.people.remove(a.id);
    const tombSeq = s.register.head();
    t += 10 * 86_400_000;
    s.people.remove(b.id);
    expect(s.register.purgeTombstones()).toEqual({ purged: 0, purgedUpTo: 0 });
    t += 25 * 86_400_000; // a's tombstone is 35 days old, b's 25
    expect(s.register.purgeTombstones()).toEqual({ purged: 1, purgedUpTo: tombSeq });
    s.close();
    s = suite.open(dir, {}, now);
    expect(s.register.purgedUpTo()).toBe(tombSeq);
    expect(s.register.head()).toBe(tombSeq + 1);
    expect(s.register.changesAfter(0, 10).map((c) => c.entityId)).toEqual([b.id]);
    // The counter never goes back, even though the newest row is gone.
    s.people.create({ name: 'C' });
    expect(s.register.head()).toBe(tombSeq + 2);
  });

  it('refuses to delete a door still named by a device or a schedule', () => {
    const s = suite.open(suite.dir());
    s.doors.create({ id: 'front' });
    s.doors.create({ id: 'back', name: 'Back' });
    const p = s.people.create({ name: 'A', schedules: [{ ...weekdays, door: 'front' }] });
    s.devices.create({ id: 'dev-1', doorId: 'back' });
    expect(() => s.doors.remove('front')).toThrow(new RegExp(`person ${p.id}`));
    expect(() => s.doors.remove('back')).toThrow(/device dev-1/);
    s.people.update(p.id, { schedules: [] });
    expect(s.doors.remove('front')).toBe(true);
    expect(s.doors.list().map((d) => d.name)).toEqual(['Back']);
  });
});
