/** Need-to-know change pages: what each device is sent, sealed for it alone, paged and snapshotted. */
import { describe, expect, it } from 'vitest';
import { generateKeySet, publicKeys } from '../../../core/sync/keys.ts';
import { z } from 'zod';
import { bodySchemas, personWireSchema } from '../../../core/sync/contract.ts';
import { openEmbedding } from '../../../core/sync/seal.ts';
import { buildChanges } from '../../../gateway/sync/changes.ts';
import { storeSuite, vec } from '../store/helpers.ts';

const week = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[];
const at = (door: string) => ({ door, days: week, from: '00:00', to: '24:00' });
const NOW = Date.parse('2026-06-01T12:00:00Z');

describe('gateway sync: change pages', () => {
  const suite = storeSuite();
  const keysA = generateKeySet();
  const keysB = generateKeySet();

  function setup() {
    const s = suite.open(suite.dir());
    s.doors.create({ id: 'front' });
    s.doors.create({ id: 'lab' });
    for (const [id, k, door] of [['dev-a', keysA, 'front'], ['dev-b', keysB, 'lab']] as const) {
      s.devices.create({ id, doorId: door });
      const p = publicKeys(k);
      s.devices.setKeys(id, p.signPublicKey, p.sealPublicKey);
    }
    return s;
  }
  const page = (s: ReturnType<typeof setup>, id: string, cursor: number | null, pageSize = 100, secondTemplates?: boolean) =>
    buildChanges(s, s.devices.get(id)!, cursor, { pageSize, tid: 't', now: NOW, secondTemplates });

  it('sends second templates index by index with the main ones, sealed under their own context, only to a device that takes them', () => {
    const s = setup();
    s.people.create({ id: 'both', name: 'B', schedules: [at('front')] });
    s.people.create({ id: 'main-only', name: 'M', schedules: [at('front')] });
    s.templates.add('both', vec(1), { source: 'upload', second: vec(10, 192) });
    s.templates.add('both', vec(2), { source: 'enrol-here' });
    s.templates.add('main-only', vec(3), { source: 'upload' });

    const a = page(s, 'dev-a', null, 100, true);
    expect(bodySchemas.down.changes.safeParse(a).success).toBe(true);
    const both = a.people.find((p) => p.id === 'both')!;
    expect(both.templates).toHaveLength(2);
    expect(both.secondTemplates).toHaveLength(2);
    expect(both.secondTemplates![1]).toBeNull();
    expect(openEmbedding(keysA.seal.privateKey, 'dev-a', 'both', both.secondTemplates![0]!, 'second')).toEqual(vec(10, 192));
    // A second box does not open as a main template, nor a main one as a second.
    expect(() => openEmbedding(keysA.seal.privateKey, 'dev-a', 'both', both.secondTemplates![0]!)).toThrow();
    expect(() => openEmbedding(keysA.seal.privateKey, 'dev-a', 'both', both.templates[0], 'second')).toThrow();
    // Nobody's second template: the key is left out.
    expect('secondTemplates' in a.people.find((p) => p.id === 'main-only')!).toBe(false);
    // A device that did not list the feature (an older one, whose strict schema would refuse the key) gets main templates only.
    const old = page(s, 'dev-a', null);
    expect(old.people.every((p) => !('secondTemplates' in p))).toBe(true);
    const olderSchema = bodySchemas.down.changes.extend({ people: z.array(personWireSchema.omit({ secondTemplates: true })) });
    expect(olderSchema.safeParse(old).success).toBe(true);
    expect(olderSchema.safeParse(a).success).toBe(false);
  });

  it('sends each device only the people who may pass its door, templates sealed to that device', () => {
    const s = setup();
    s.people.create({ id: 'everywhere', name: 'E', schedules: [at('*')] });
    s.people.create({ id: 'lab-only', name: 'L', schedules: [at('lab')] });
    s.people.create({ id: 'expired', name: 'X', schedules: [at('*')], validUntil: '2026-01-01' });
    s.people.create({ id: 'off', name: 'O', schedules: [at('*')], active: false });
    s.groups.create({ id: 'night', name: 'Night', schedules: [at('front')] });
    s.people.create({ id: 'by-group', name: 'G', groups: ['night'] });
    s.templates.add('everywhere', vec(1), { source: 'upload' });
    s.templates.add('lab-only', vec(2), { source: 'upload' });

    const a = page(s, 'dev-a', null);
    expect(a.reset).toBe(true);
    expect(a.keep!.sort()).toEqual(['by-group', 'everywhere']);
    expect(a.people.map((p) => p.id).sort()).toEqual(['by-group', 'everywhere']);
    // A snapshot names nobody the device may not hold: keep removes them without telling who exists.
    expect(a.deleted).toEqual([]);
    expect(JSON.stringify(a)).not.toContain('lab-only');
    const sealed = a.people.find((p) => p.id === 'everywhere')!.templates[0];
    expect(openEmbedding(keysA.seal.privateKey, 'dev-a', 'everywhere', sealed)).toEqual(vec(1));
    // Device B's key, or the box presented as another person's, opens nothing.
    expect(() => openEmbedding(keysB.seal.privateKey, 'dev-a', 'everywhere', sealed)).toThrow();
    expect(() => openEmbedding(keysA.seal.privateKey, 'dev-a', 'lab-only', sealed)).toThrow();

    const b = page(s, 'dev-b', null);
    expect(b.keep!.sort()).toEqual(['everywhere', 'lab-only']);
  });

  it('pages after the cursor, turns a lost right of way into a deletion, and reaches the head', () => {
    const s = setup();
    for (let i = 0; i < 5; i++) s.people.create({ id: `p${i}`, name: `P${i}`, schedules: [at('front')] });
    s.devices.update('dev-a', { snapshotRequired: false });
    const first = page(s, 'dev-a', 0, 2);
    expect(first).toMatchObject({ reset: false, more: true });
    expect(first.people.map((p) => p.id)).toEqual(['p0', 'p1']);
    const second = page(s, 'dev-a', first.to, 2);
    expect(second.people.map((p) => p.id)).toEqual(['p2', 'p3']);
    const rest = page(s, 'dev-a', second.to, 2);
    expect(rest.more).toBe(false);
    expect(rest.to).toBe(s.register.head());

    s.people.update('p1', { schedules: [at('lab')] });
    s.people.remove('p2');
    const next = page(s, 'dev-a', rest.to);
    expect(next.deleted.sort()).toEqual(['p1', 'p2']);
    expect(next.people).toEqual([]);
  });

  it('sends a snapshot when the door changed or the cursor is older than the purged tombstones', () => {
    let t = NOW;
    const s = suite.open(suite.dir(), { tombstoneRetentionDays: 1 }, () => t);
    s.doors.create({ id: 'front' });
    s.devices.create({ id: 'dev-a', doorId: 'front' });
    const p = publicKeys(keysA);
    s.devices.setKeys('dev-a', p.signPublicKey, p.sealPublicKey);
    s.devices.update('dev-a', { snapshotRequired: false });
    s.people.create({ id: 'gone', name: 'G', schedules: [at('*')] });
    const c = page(s, 'dev-a', 0).to;
    s.people.remove('gone');
    t += 3 * 86_400_000;
    s.register.purgeTombstones();
    const snap = buildChanges(s, s.devices.get('dev-a')!, c, { pageSize: 100, tid: null, now: t });
    expect(snap.reset).toBe(true);
    expect(snap.keep).toEqual([]);
    s.doors.create({ id: 'lab' });
    s.devices.update('dev-a', { doorId: 'lab' });
    expect(s.devices.get('dev-a')!.snapshotRequired).toBe(true);
    expect(buildChanges(s, s.devices.get('dev-a')!, snap.to, { pageSize: 100, tid: null, now: t }).reset).toBe(true);
  });

  it('completes a snapshot larger than a page although tombstones newer than its pages were purged', () => {
    let t = NOW;
    const s = suite.open(suite.dir(), { tombstoneRetentionDays: 1 }, () => t);
    s.doors.create({ id: 'front' });
    s.devices.create({ id: 'dev-a', doorId: 'front' });
    const p = publicKeys(keysA);
    s.devices.setKeys('dev-a', p.signPublicKey, p.sealPublicKey);
    for (let i = 0; i < 10; i++) s.people.create({ id: `p${i}`, name: `P${i}`, schedules: [at('front')] });
    s.people.create({ id: 'late', name: 'L', schedules: [at('front')] });
    s.people.remove('late');
    t += 3 * 86_400_000;
    expect(s.register.purgeTombstones().purged).toBe(1);
    const got = new Set<string>();
    let page = buildChanges(s, s.devices.get('dev-a')!, null, { pageSize: 3, tid: null, now: t });
    expect(page.reset).toBe(true);
    let pages = 1;
    for (;;) {
      page.people.forEach((x) => got.add(x.id));
      if (!page.more) break;
      expect(page.to).toBeLessThan(s.register.purgedUpTo());
      page = buildChanges(s, s.devices.get('dev-a')!, page.to, { pageSize: 3, tid: null, now: t, continuing: true });
      expect(page.reset).toBe(false);
      expect(++pages).toBeLessThan(10);
    }
    expect([...got].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`).sort());
    expect(page.to).toBe(s.register.head());
    // Without the continuation mark the same cursor would restart the snapshot.
    expect(buildChanges(s, s.devices.get('dev-a')!, 3, { pageSize: 3, tid: null, now: t }).reset).toBe(true);
  });

  it('moves the register head when a device changes door or name, so a notify makes it ask', () => {
    const s = setup();
    const head = s.register.head();
    s.devices.update('dev-a', { doorId: 'lab' });
    expect(s.register.head()).toBeGreaterThan(head);
    const changes = s.register.changesAfter(head, 10);
    expect(changes).toEqual([expect.objectContaining({ kind: 'policy', entityId: 'dev-a' })]);
    const page = buildChanges(s, s.devices.get('dev-a')!, head, { pageSize: 100, tid: null, now: NOW });
    expect(page.policy).toEqual({ door: 'lab', name: 'dev-a' });
  });
});
