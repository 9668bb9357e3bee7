/** Person/policy rows. Stored as given; the policy module interprets validity, groups and schedules. */
import type Database from 'better-sqlite3';

export interface PersonRecord {
  id: string;
  name: string;
  active: boolean;
  /** ISO 8601 instants, or null for unbounded. */
  validFrom: string | null;
  validUntil: string | null;
  groups: string[];
  /** Opaque schedule documents (JSON) for the policy module. */
  schedules: unknown;
}

interface Row {
  id: string;
  name: string;
  active: number;
  valid_from: string | null;
  valid_until: string | null;
  groups: string;
  schedules: string;
}

const fromRow = (r: Row): PersonRecord => ({
  id: r.id,
  name: r.name,
  active: r.active === 1,
  validFrom: r.valid_from,
  validUntil: r.valid_until,
  groups: JSON.parse(r.groups),
  schedules: JSON.parse(r.schedules),
});

export class PersonStore {
  private readonly upsertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listStmt: Database.Statement;
  private readonly delStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.upsertStmt = db.prepare(`
      INSERT INTO persons (id, name, active, valid_from, valid_until, groups, schedules, updated_at)
      VALUES (@id, @name, @active, @validFrom, @validUntil, @groups, @schedules, @now)
      ON CONFLICT(id) DO UPDATE SET name = excluded.name, active = excluded.active, valid_from = excluded.valid_from,
        valid_until = excluded.valid_until, groups = excluded.groups, schedules = excluded.schedules, updated_at = excluded.updated_at`);
    this.getStmt = db.prepare('SELECT * FROM persons WHERE id = ?');
    this.listStmt = db.prepare('SELECT * FROM persons ORDER BY id');
    this.delStmt = db.prepare('DELETE FROM persons WHERE id = ?');
  }

  upsert(p: PersonRecord): void {
    if (!p.id || typeof p.id !== 'string') throw new Error('person needs a string id');
    if (!Array.isArray(p.groups)) throw new Error(`person ${p.id}: groups must be an array`);
    this.upsertStmt.run({
      id: p.id,
      name: p.name ?? '',
      active: p.active ? 1 : 0,
      validFrom: p.validFrom ?? null,
      validUntil: p.validUntil ?? null,
      groups: JSON.stringify(p.groups),
      schedules: JSON.stringify(p.schedules ?? null),
      now: Date.now(),
    });
  }

  get(id: string): PersonRecord | undefined {
    const r = this.getStmt.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  list(): PersonRecord[] {
    return (this.listStmt.all() as Row[]).map(fromRow);
  }

  remove(id: string): boolean {
    return this.delStmt.run(id).changes > 0;
  }
}
