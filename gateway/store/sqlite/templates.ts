/**
 * Encrypted templates (several per person) and, only when keepPhotos is on, encrypted enrolment
 * photos. A row may carry the second embedding's template of the same face (nullable columns,
 * schema v2; older rows have none and stay valid). A template change touches the person in the register log: devices fetch a person with
 * their templates, so a new or removed template is a change of that person.
 */
import { timeOrderedId } from './common.ts';
import type Database from 'better-sqlite3';
import { createLogger } from '../../../core/log/logger.ts';
import { openPhoto, openSecondTemplate, openTemplate, sealPhoto, sealSecondTemplate, sealTemplate } from '../crypto.ts';
import { StoreError, type PhotosRepo, type RegisterLog, type TemplateMeta, type TemplateRecord, type TemplatesRepo } from '../types.ts';

const log = createLogger('gateway-store');

interface MetaRow {
  id: string;
  person_id: string;
  source: string;
  quality: number | null;
  created_at: number;
}
interface SealedRow extends MetaRow {
  nonce: Buffer;
  tag: Buffer;
  data: Buffer;
  second_nonce: Buffer | null;
  second_tag: Buffer | null;
  second_data: Buffer | null;
}

const SEALED = 'id, person_id, source, quality, created_at, nonce, tag, data, second_nonce, second_tag, second_data';

const meta = (r: MetaRow): TemplateMeta => ({ id: r.id, personId: r.person_id, source: r.source, quality: r.quality, createdAt: r.created_at });

export function createTemplatesRepo(db: Database.Database, key: Buffer, register: RegisterLog, now: () => number): TemplatesRepo {
  const personExists = db.prepare('SELECT 1 FROM people WHERE id = ?').pluck();
  const insert = db.prepare(
    'INSERT INTO templates (id, person_id, source, quality, nonce, tag, data, second_nonce, second_tag, second_data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const getMeta = db.prepare('SELECT id, person_id, source, quality, created_at FROM templates WHERE id = ?');
  const byPersonMeta = db.prepare('SELECT id, person_id, source, quality, created_at FROM templates WHERE person_id = ? ORDER BY created_at, id');
  const byPerson = db.prepare(`SELECT ${SEALED} FROM templates WHERE person_id = ? ORDER BY created_at, id`);
  const page = db.prepare(`SELECT ${SEALED} FROM templates WHERE id > ? ORDER BY id LIMIT ?`);
  const countFor = db.prepare('SELECT count(*) FROM templates WHERE person_id = ?').pluck();
  const countAll = db.prepare('SELECT count(*) FROM templates').pluck();
  const del = db.prepare('DELETE FROM templates WHERE id = ?');
  const delPerson = db.prepare('DELETE FROM templates WHERE person_id = ?');

  // A second template failing authentication costs only the fusion: the main one still matches.
  function decryptSecond(r: SealedRow): Float32Array | null {
    if (!r.second_nonce || !r.second_tag || !r.second_data) return null;
    try {
      return openSecondTemplate(key, r.person_id, { nonce: r.second_nonce, tag: r.second_tag, data: r.second_data });
    } catch (err) {
      log.error('second template failed authentication; the template matches on the main model alone', { templateId: r.id, personId: r.person_id, error: (err as Error).message });
      return null;
    }
  }

  function decrypt(r: SealedRow): TemplateRecord | null {
    try {
      return { ...meta(r), embedding: openTemplate(key, r.person_id, r), second: decryptSecond(r) };
    } catch (err) {
      log.error('template failed authentication (tampered, moved to another person, or wrong key); left out', {
        templateId: r.id,
        personId: r.person_id,
        error: (err as Error).message,
      });
      return null;
    }
  }

  const add = db.transaction((personId: string, embedding: Float32Array, source: string, quality: number | null, second: Float32Array | null): TemplateMeta => {
    if (!personExists.get(personId)) throw new StoreError('not_found', `person ${personId} does not exist`);
    if (!embedding.length || !embedding.every(Number.isFinite)) throw new StoreError('invalid', 'template embedding is empty or has non-finite values');
    if (second && (!second.length || !second.every(Number.isFinite))) throw new StoreError('invalid', 'second template is empty or has non-finite values');
    const id = timeOrderedId();
    const s = sealTemplate(key, personId, embedding);
    const s2 = second ? sealSecondTemplate(key, personId, second) : null;
    insert.run(id, personId, source, quality, s.nonce, s.tag, s.data, s2?.nonce ?? null, s2?.tag ?? null, s2?.data ?? null, now());
    register.touch('person', personId);
    return meta(getMeta.get(id) as MetaRow);
  });

  const remove = db.transaction((templateId: string): boolean => {
    const r = getMeta.get(templateId) as MetaRow | undefined;
    if (!r) return false;
    del.run(templateId);
    db.prepare('UPDATE photos SET template_id = NULL WHERE template_id = ?').run(templateId);
    register.touch('person', r.person_id);
    return true;
  });

  const removePerson = db.transaction((personId: string): number => {
    const n = delPerson.run(personId).changes;
    if (n > 0 && personExists.get(personId)) register.touch('person', personId);
    return n;
  });

  return {
    add: (personId, embedding, opts) => add(personId, embedding, opts.source, opts.quality ?? null, opts.second ?? null),
    get: (id) => {
      const r = getMeta.get(id) as MetaRow | undefined;
      return r && meta(r);
    },
    list(personId) {
      const out: TemplateRecord[] = [];
      for (const r of byPerson.all(personId) as SealedRow[]) {
        const t = decrypt(r);
        if (t) out.push(t);
      }
      return out;
    },
    meta: (personId) => (byPersonMeta.all(personId) as MetaRow[]).map(meta),
    *all() {
      let after = '';
      for (;;) {
        const rows = page.all(after, 500) as SealedRow[];
        if (!rows.length) return;
        for (const r of rows) {
          const t = decrypt(r);
          if (t) yield t;
        }
        after = rows[rows.length - 1].id;
      }
    },
    counts(personIds) {
      const out: Record<string, number> = {};
      for (const id of personIds) {
        const n = countFor.get(id) as number;
        if (n) out[id] = n;
      }
      return out;
    },
    total: () => countAll.get() as number,
    remove: (id) => remove(id),
    removePerson: (personId) => removePerson(personId),
  };
}

interface PhotoRow {
  id: string;
  person_id: string;
  template_id: string | null;
  content_type: string | null;
  nonce: Buffer;
  tag: Buffer;
  data: Buffer;
  created_at: number;
}

export function createPhotosRepo(db: Database.Database, key: Buffer, keepPhotos: boolean, now: () => number): PhotosRepo {
  const insert = db.prepare('INSERT INTO photos (id, person_id, template_id, content_type, nonce, tag, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const byPerson = db.prepare('SELECT id, person_id, template_id, content_type, nonce, tag, data, created_at FROM photos WHERE person_id = ? ORDER BY created_at, id');
  const countFor = db.prepare('SELECT count(*) FROM photos WHERE person_id = ?').pluck();
  const delPerson = db.prepare('DELETE FROM photos WHERE person_id = ?');
  const personExists = db.prepare('SELECT 1 FROM people WHERE id = ?').pluck();
  return {
    add(personId, data, opts = {}) {
      // Defence in depth: the enrolment code checks the setting too, but no caller can keep a photo with it off.
      if (!keepPhotos) return null;
      if (!personExists.get(personId)) throw new StoreError('not_found', `person ${personId} does not exist`);
      const id = timeOrderedId();
      const s = sealPhoto(key, personId, data);
      insert.run(id, personId, opts.templateId ?? null, opts.contentType ?? null, s.nonce, s.tag, s.data, now());
      return { id };
    },
    list: (personId) =>
      (byPerson.all(personId) as PhotoRow[]).map((r) => ({
        id: r.id,
        personId: r.person_id,
        templateId: r.template_id,
        contentType: r.content_type,
        data: openPhoto(key, r.person_id, r),
        createdAt: r.created_at,
      })),
    count: (personId) => countFor.get(personId) as number,
    removePerson: (personId) => delPerson.run(personId).changes,
  };
}
