/**
 * Encrypted face templates (embeddings) per person; decrypted only into the in-memory gallery.
 * A row may carry the second embedding's template beside the main one (gallery.secondEmbedding),
 * sealed the same way under its own associated data; rows without it (older ones, gateway syncs,
 * a salvaged database: salvage.ts copies the main columns) stay valid and match on the main model.
 */
import type Database from 'better-sqlite3';
import { createLogger } from '../../core/log/logger.ts';
import { openSecondTemplate, openTemplate, sealSecondTemplate, sealTemplate } from './crypto.ts';

const log = createLogger('store');

/** What loadInto needs from a gallery (device/gallery/gallery.ts satisfies it). */
export interface TemplateSink {
  addTemplate(personId: string, embedding: Float32Array): void;
  /** Called after addTemplate for a row that carries a second template. */
  addSecondTemplate?(personId: string, embedding: Float32Array): void;
}

const COLUMNS = 'id, person_id, nonce, tag, data, second_nonce, second_tag, second_data';

export class TemplateStore {
  private readonly insert: Database.Statement;
  private readonly byPerson: Database.Statement;
  private readonly all: Database.Statement;
  private readonly del: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer,
  ) {
    this.insert = db.prepare('INSERT INTO templates (person_id, nonce, tag, data, second_nonce, second_tag, second_data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.byPerson = db.prepare(`SELECT ${COLUMNS} FROM templates WHERE person_id = ? ORDER BY id`);
    this.all = db.prepare(`SELECT ${COLUMNS} FROM templates ORDER BY person_id, id`);
    this.del = db.prepare('DELETE FROM templates WHERE person_id = ?');
  }

  /** `second`: the second embedding of the same face, stored in the same row. */
  add(personId: string, embedding: Float32Array, second?: Float32Array): number {
    if (!personId) throw new Error('template needs a person id');
    if (!embedding.every(Number.isFinite)) throw new Error('template embedding has non-finite values');
    if (second && !second.every(Number.isFinite)) throw new Error('second template has non-finite values');
    const s = sealTemplate(this.key, personId, embedding);
    const s2 = second ? sealSecondTemplate(this.key, personId, second) : null;
    return Number(this.insert.run(personId, s.nonce, s.tag, s.data, s2?.nonce ?? null, s2?.tag ?? null, s2?.data ?? null, Date.now()).lastInsertRowid);
  }

  /** Decrypted templates of one person in insertion order; a row that fails authentication is logged and skipped. */
  list(personId: string): Float32Array[] {
    return this.collect(personId, (r) => this.decrypt(r));
  }

  /** Decrypted second templates of one person (rows without one are left out). */
  listSecond(personId: string): Float32Array[] {
    return this.collect(personId, (r) => this.decryptSecond(r));
  }

  private collect(personId: string, open: (row: Row) => Float32Array | null): Float32Array[] {
    const out: Float32Array[] = [];
    for (const row of this.byPerson.iterate(personId) as Iterable<Row>) {
      const e = open(row);
      if (e) out.push(e);
    }
    return out;
  }

  removePerson(personId: string): number {
    return this.del.run(personId).changes;
  }

  /** Decrypt every row into the gallery. Tampered rows are rejected (logged), never loaded. */
  loadInto(sink: TemplateSink): { loaded: number; rejected: number } {
    let loaded = 0;
    let rejected = 0;
    for (const row of this.all.iterate() as Iterable<Row>) {
      const e = this.decrypt(row);
      if (!e) {
        rejected++;
        continue;
      }
      try {
        sink.addTemplate(row.person_id, e);
        loaded++;
      } catch (err) {
        rejected++;
        log.error('template rejected by the gallery', { templateId: row.id, personId: row.person_id, error: (err as Error).message });
        continue;
      }
      const s = sink.addSecondTemplate && this.decryptSecond(row);
      if (!s) continue;
      try {
        sink.addSecondTemplate!(row.person_id, s);
      } catch (err) {
        log.error('second template rejected by the gallery; the main one is loaded', { templateId: row.id, personId: row.person_id, error: (err as Error).message });
      }
    }
    return { loaded, rejected };
  }

  private decrypt(row: Row): Float32Array | null {
    try {
      return openTemplate(this.key, row.person_id, row);
    } catch (err) {
      log.error('template failed authentication (tampered, moved between people, or wrong key); not loaded', {
        templateId: row.id,
        personId: row.person_id,
        error: (err as Error).message,
      });
      return null;
    }
  }

  /** The row's second template; null when it has none or it fails authentication (logged: the main one still counts). */
  private decryptSecond(row: Row): Float32Array | null {
    if (!row.second_data || !row.second_nonce || !row.second_tag) return null;
    try {
      return openSecondTemplate(this.key, row.person_id, { nonce: row.second_nonce, tag: row.second_tag, data: row.second_data });
    } catch (err) {
      log.error('second template failed authentication; the row matches on the main model only', { templateId: row.id, personId: row.person_id, error: (err as Error).message });
      return null;
    }
  }
}

interface Row {
  id: number;
  person_id: string;
  nonce: Buffer;
  tag: Buffer;
  data: Buffer;
  second_nonce: Buffer | null;
  second_tag: Buffer | null;
  second_data: Buffer | null;
}
