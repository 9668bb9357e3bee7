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
