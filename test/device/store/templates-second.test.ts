/** Second templates at rest: stored beside the main one; rows without one (and v2 databases) stay valid. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Gallery } from '../../../device/gallery/gallery.ts';
import { openStore, type DeviceStore } from '../../../device/store/store.ts';

let dir: string;
const stores: DeviceStore[] = [];
const key = randomBytes(32).toString('hex');
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-tpl2-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function store(): Promise<DeviceStore> {
  const s = await openStore({ dir, templateKey: { type: 'env', env: 'K', file: 'unused' } }, { env: { K: key } });
  stores.push(s);
  return s;
}

const vec = (seed: number, n = 512) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.1 + seed));

describe('second templates at rest', () => {
  it('stores the second template in the same row, encrypted; rows without one load main-only', async () => {
    const s = await store();
    s.templates.add('both', vec(1), vec(2, 192));
    s.templates.add('old', vec(3));
    const raw = s.db.prepare("SELECT second_data FROM templates WHERE person_id = 'both'").get() as { second_data: Buffer };
    expect(raw.second_data.equals(Buffer.from(vec(2, 192).buffer))).toBe(false);
    expect(s.templates.listSecond('both')[0]).toEqual(vec(2, 192));
    expect(s.templates.listSecond('old')).toEqual([]);
    const g = new Gallery({ kernel: { type: 'js', threads: 1 }, maxTemplates: 16 });
    try {
      expect(s.loadGallery(g)).toEqual({ loaded: 2, rejected: 0 });
      expect(g.has('old') && g.has('both')).toBe(true);
      expect(g.hasSecond('both')).toBe(true);
      expect(g.hasSecond('old')).toBe(false);
    } finally {
      await g.close();
    }
  });

  it('a tampered second template is skipped and the main one still loads', async () => {
    const s = await store();
    s.templates.add('p', vec(1), vec(2, 192));
    s.db.prepare("UPDATE templates SET second_data = zeroblob(length(second_data)) WHERE person_id = 'p'").run();
    const g = new Gallery({ kernel: { type: 'js', threads: 1 }, maxTemplates: 16 });
    try {
      expect(s.loadGallery(g)).toEqual({ loaded: 1, rejected: 0 });
      expect(g.has('p')).toBe(true);
      expect(g.hasSecond('p')).toBe(false);
    } finally {
      await g.close();
    }
  });

  it('a version-2 database (no second columns) is migrated and its templates still load', async () => {
    const first = await store();
    first.templates.add('p', vec(1));
    const sealed = first.db.prepare('SELECT person_id, nonce, tag, data, created_at FROM templates').get() as Record<string, unknown>;
    first.close();
    stores.splice(0);
    // Rebuild the file as version 2 wrote it: the templates table without the second columns.
    const file = join(dir, 'portier.db');
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    const db = new Database(file);
    db.exec('CREATE TABLE templates (id INTEGER PRIMARY KEY, person_id TEXT NOT NULL, nonce BLOB NOT NULL, tag BLOB NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL); PRAGMA user_version = 2;');
    db.prepare('INSERT INTO templates (person_id, nonce, tag, data, created_at) VALUES (@person_id, @nonce, @tag, @data, @created_at)').run(sealed);
    db.close();
    const s = await store();
    expect(s.db.pragma('user_version', { simple: true })).toBe(3);
    expect(s.templates.list('p')).toHaveLength(1);
    expect(s.templates.listSecond('p')).toEqual([]);
    s.templates.add('q', vec(2), vec(3, 192));
    expect(s.templates.listSecond('q')).toHaveLength(1);
  });
});
