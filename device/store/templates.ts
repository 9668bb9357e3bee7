/** Encrypted face templates (embeddings) per person; decrypted only into the in-memory gallery. */
import type Database from 'better-sqlite3';
import { createLogger } from '../../core/log/logger.ts';
import { openTemplate, sealTemplate } from './crypto.ts';

const log = createLogger('store');

/** What loadInto needs from a gallery (device/gallery/gallery.ts satisfies it). */
export interface TemplateSink {
  addTemplate(personId: string, embedding: Float32Array): void;
}

export class TemplateStore {
  private readonly insert: Database.Statement;
  private readonly byPerson: Database.Statement;
  private readonly all: Database.Statement;
  private readonly del: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly key: Buffer,
  ) {
    this.insert = db.prepare('INSERT INTO templates (person_id, nonce, tag, data, created_at) VALUES (?, ?, ?, ?, ?)');
    this.byPerson = db.prepare('SELECT id, person_id, nonce, tag, data FROM templates WHERE person_id = ? ORDER BY id');
    this.all = db.prepare('SELECT id, person_id, nonce, tag, data FROM templates ORDER BY person_id, id');
    this.del = db.prepare('DELETE FROM templates WHERE person_id = ?');
  }

  add(personId: string, embedding: Float32Array): number {
    if (!personId) throw new Error('template needs a person id');
    if (!embedding.every(Number.isFinite)) throw new Error('template embedding has non-finite values');
    const s = sealTemplate(this.key, personId, embedding);
    return Number(this.insert.run(personId, s.nonce, s.tag, s.data, Date.now()).lastInsertRowid);
  }

  /** Decrypted templates of one person in insertion order; a row that fails authentication is logged and skipped. */
  list(personId: string): Float32Array[] {
    const out: Float32Array[] = [];
    for (const row of this.byPerson.iterate(personId) as Iterable<Row>) {
      const e = this.decrypt(row);
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
}

interface Row {
  id: number;
  person_id: string;
  nonce: Buffer;
  tag: Buffer;
  data: Buffer;
}
