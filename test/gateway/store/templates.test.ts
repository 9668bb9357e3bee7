/** Templates and photos at rest: encrypted, bound to the person, tamper-evident, durable, key file rules. */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';
import { KeyError } from '../../../gateway/store/crypto.ts';
import { openGatewayStore } from '../../../gateway/store/open.ts';
import { storeSuite, vec } from './helpers.ts';

describe('gateway store: templates and photos', () => {
  const suite = storeSuite();

  it('creates a 0600 key file on first start and refuses one group or other may read', () => {
    const dir = suite.dir();
    suite.open(dir).close();
    const keyFile = join(dir, 'template.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8');
    // Reopening keeps the key (templates stay readable).
    const s = suite.open(dir);
    const p = s.people.create({ name: 'Grace' });
    s.templates.add(p.id, vec(1), { source: 'upload' });
    s.close();
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    chmodSync(keyFile, 0o640);
    expect(() => openGatewayStore({ dir })).toThrow(KeyError);
    expect(() => openGatewayStore({ dir })).toThrow(/chmod 600/);
  });

  it('takes the key from the environment when configured, and fails without it', () => {
    const dir = suite.dir();
    const cfg = { dir, templateKey: { type: 'env' as const } };
    expect(() => openGatewayStore(cfg, { env: {} })).toThrow(/PORTIER_GATEWAY_TEMPLATE_KEY/);
    const s = openGatewayStore(cfg, { env: { PORTIER_GATEWAY_TEMPLATE_KEY: Buffer.alloc(32, 7).toString('base64') } });
    s.close();
  });

  it('stores embeddings encrypted, several per person, and returns them intact', () => {
    const s = suite.open(suite.dir());
    const p = s.people.create({ name: 'Grace' });
    const a = vec(3);
    const b = vec(4, 512, 5, 0.5);
    const ta = s.templates.add(p.id, a, { source: 'upload', quality: 0.99 });
    s.templates.add(p.id, b, { source: 'enrol-here' });
    const list = s.templates.list(p.id);
    expect(list.map((t) => t.source)).toEqual(['upload', 'enrol-here']);
    expect(list[0]).toMatchObject({ id: ta.id, personId: p.id, quality: 0.99 });
    expect(Array.from(list[0].embedding)).toEqual(Array.from(a));
    expect(Array.from(list[1].embedding)).toEqual(Array.from(b));
    // Nothing of the plain float32 bytes is in the row.
    const raw = s.db.prepare('SELECT data FROM templates WHERE id = ?').get(ta.id) as { data: Buffer };
    expect(raw.data.includes(Buffer.from(a.buffer).subarray(0, 16))).toBe(false);
    expect(raw.data.equals(Buffer.from(a.buffer))).toBe(false);
    expect(s.templates.counts([p.id, 'nobody'])).toEqual({ [p.id]: 2 });
    expect([...s.templates.all()].map((t) => t.personId)).toEqual([p.id, p.id]);
  });

  it('stores a second template beside the main one, sealed under its own associated data; a v1 database migrates with its rows intact', () => {
    const dir = suite.dir();
    let s = suite.open(dir);
    const p = s.people.create({ name: 'Grace' });
    const old = s.templates.add(p.id, vec(1), { source: 'upload' });
    s.close();
    // Make it a v1 database: no second columns.
    const raw = new Database(join(dir, 'gateway.db'));
    for (const c of ['second_nonce', 'second_tag', 'second_data']) raw.exec(`ALTER TABLE templates DROP COLUMN ${c}`);
    raw.pragma('user_version = 1');
    raw.close();
    s = suite.open(dir);
    expect(s.db.pragma('user_version', { simple: true })).toBe(2);
    const two = s.templates.add(p.id, vec(2), { source: 'upload', second: vec(3, 192) });
    const list = s.templates.list(p.id);
    expect(list.map((t) => [t.id, t.second && Array.from(t.second)])).toEqual([
      [old.id, null],
      [two.id, Array.from(vec(3, 192))],
    ]);
    expect([...s.templates.all()].map((t) => t.second?.length ?? null)).toEqual([null, 192]);
    const row = s.db.prepare('SELECT data, second_data FROM templates WHERE id = ?').get(two.id) as { data: Buffer; second_data: Buffer };
    expect(row.second_data.includes(Buffer.from(vec(3, 192).buffer).subarray(0, 16))).toBe(false);
    // A second template swapped into the main columns (or the reverse) does not open.
    s.db.prepare('UPDATE templates SET nonce = second_nonce, tag = second_tag, data = second_data WHERE id = ?').run(two.id);
    expect(s.templates.list(p.id).map((t) => t.id)).toEqual([old.id]);
    expect(() => s.templates.add(p.id, vec(4), { source: 'upload', second: new Float32Array([NaN]) })).toThrow(/non-finite/);
  });

  it('a second template failing authentication leaves the main one in use', () => {
    const s = suite.open(suite.dir());
    const p = s.people.create({ name: 'Grace' });
    const q = s.people.create({ name: 'Other' });
    const t = s.templates.add(p.id, vec(1), { source: 'upload', second: vec(2, 192) });
    const u = s.templates.add(q.id, vec(5), { source: 'upload', second: vec(6, 192) });
    // Other's second template moved into Grace's row: bound to Other, it fails for Grace.
    s.db.prepare('UPDATE templates SET second_nonce = (SELECT second_nonce FROM templates WHERE id = ?), second_tag = (SELECT second_tag FROM templates WHERE id = ?), second_data = (SELECT second_data FROM templates WHERE id = ?) WHERE id = ?').run(u.id, u.id, u.id, t.id);
    const [g] = s.templates.list(p.id);
    expect(Array.from(g.embedding)).toEqual(Array.from(vec(1)));
    expect(g.second).toBeNull();
  });

  it('binds each template to its person: a row moved to another person fails to decrypt, and is logged', () => {
    const s = suite.open(suite.dir());
    const grace = s.people.create({ name: 'Grace' });
    const eileen = s.people.create({ name: 'Eileen' });
    s.templates.add(grace.id, vec(1), { source: 'upload' });
    const seen: LogRecord[] = [];
    const off = addLogSink((r) => seen.push(r));
    try {
      s.db.prepare('UPDATE templates SET person_id = ?').run(eileen.id);
      expect(s.templates.list(eileen.id)).toEqual([]);
      expect([...s.templates.all()]).toEqual([]);
      expect(seen.some((r) => r.level === 'error' && /failed authentication/.test(r.msg))).toBe(true);
      // Moved back, it decrypts again: the failure was the binding, not damage.
      s.db.prepare('UPDATE templates SET person_id = ?').run(grace.id);
      expect(s.templates.list(grace.id)).toHaveLength(1);
      // One flipped ciphertext bit is detected as well.
      const row = s.db.prepare('SELECT id, data FROM templates').get() as { id: string; data: Buffer };
      row.data[10] ^= 1;
      s.db.prepare('UPDATE templates SET data = ? WHERE id = ?').run(row.data, row.id);
      expect(s.templates.list(grace.id)).toEqual([]);
    } finally {
      off();
    }
  });

  it('refuses a template for an unknown person or with non-finite values', () => {
    const s = suite.open(suite.dir());
    expect(() => s.templates.add('ghost', vec(1), { source: 'upload' })).toThrow(/does not exist/);
    const p = s.people.create({ name: 'Grace' });
    expect(() => s.templates.add(p.id, new Float32Array([1, NaN]), { source: 'upload' })).toThrow(/non-finite/);
  });

  it('keeps photos only when keepPhotos is on, encrypted with a purpose-bound AAD, and drops them when it is turned off', () => {
    const dir = suite.dir();
    const photo = Buffer.from('pretend this is a JPEG of a face, long enough to search for');
    let s = suite.open(dir);
    const p = s.people.create({ name: 'Grace' });
    expect(s.photos.add(p.id, photo)).toBeNull();
    expect(s.db.prepare('SELECT count(*) FROM photos').pluck().get()).toBe(0);
    s.close();
    s = suite.open(dir, { keepPhotos: true });
    expect(s.photos.add(p.id, photo, { contentType: 'image/jpeg' })).not.toBeNull();
    expect(s.photos.list(p.id).map((x) => x.data)).toEqual([photo]);
    const raw = s.db.prepare('SELECT data FROM photos').get() as { data: Buffer };
    expect(raw.data.includes(photo.subarray(0, 20))).toBe(false);
    // A photo row copied into templates does not pass as a template (different AAD).
    s.db.prepare("INSERT INTO templates (id, person_id, source, quality, nonce, tag, data, created_at) SELECT 'x', person_id, 'upload', NULL, nonce, tag, data, 0 FROM photos").run();
    expect(s.templates.list(p.id)).toEqual([]);
    s.close();
    s = suite.open(dir, { keepPhotos: false });
    expect(s.photos.count(p.id)).toBe(0);
  });

  it('is durable across reopen, and refuses a corrupt database instead of replacing it', () => {
    const dir = suite.dir();
    let s = suite.open(dir);
    const p = s.people.create({ name: 'Grace', employeeNo: 'E1' });
    s.templates.add(p.id, vec(2), { source: 'upload' });
    s.close();
    s = suite.open(dir);
    expect(s.people.get(p.id)?.employeeNo).toBe('E1');
    expect(s.templates.list(p.id)).toHaveLength(1);
    s.close();
    // Wipe the first page of the database file: not a database any more.
    const file = join(dir, 'gateway.db');
    const db = new Database(file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = readFileSync(file);
    bytes.fill(0x41, 0, 100);
    writeFileSync(file, bytes);
    expect(() => openGatewayStore({ dir })).toThrow(/corrupt.*restore it from a backup/);
    expect(readFileSync(file).subarray(0, 4).toString()).toBe('AAAA');
  });
});
