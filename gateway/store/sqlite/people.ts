/** People: access data of each person; every change touches the register log in the same transaction. */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { personCreateSchema, personPatchSchema, validityMs, type Schedule } from '../schemas.ts';
import { StoreError, type PeopleFilter, type PeopleRepo, type Person, type RegisterLog } from '../types.ts';
import { clampLimit, isUniqueViolation, likeSubstring, parseInput, referenceProblems } from './common.ts';

interface Row {
  id: string;
  name: string;
  employee_no: string | null;
  active: number;
  valid_from: string | null;
  valid_until: string | null;
  groups_json: string;
  schedules_json: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, name, employee_no, active, valid_from, valid_until, groups_json, schedules_json, created_at, updated_at';

const fromRow = (r: Row): Person => ({
  id: r.id,
  name: r.name,
  employeeNo: r.employee_no,
  active: r.active === 1,
  validFrom: r.valid_from,
  validUntil: r.valid_until,
  groups: JSON.parse(r.groups_json) as string[],
  schedules: JSON.parse(r.schedules_json) as Schedule[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function createPeopleRepo(db: Database.Database, register: RegisterLog, now: () => number): PeopleRepo {
  const getStmt = db.prepare(`SELECT ${COLUMNS} FROM people WHERE id = ?`);
  const insertStmt = db.prepare(`
    INSERT INTO people (id, name, name_lc, employee_no, active, valid_from, valid_until, valid_until_ms, groups_json, schedules_json, created_at, updated_at)
    VALUES (@id, @name, @nameLc, @employeeNo, @active, @validFrom, @validUntil, @validUntilMs, @groups, @schedules, @now, @now)`);
  const updateStmt = db.prepare(`
    UPDATE people SET name = @name, name_lc = @nameLc, employee_no = @employeeNo, active = @active, valid_from = @validFrom,
      valid_until = @validUntil, valid_until_ms = @validUntilMs, groups_json = @groups, schedules_json = @schedules, updated_at = @now
    WHERE id = @id`);
  const delGroups = db.prepare('DELETE FROM person_groups WHERE person_id = ?');
  const addGroup = db.prepare('INSERT INTO person_groups (person_id, group_id) VALUES (?, ?)');
  const delPerson = db.prepare('DELETE FROM people WHERE id = ?');
  const delTemplates = db.prepare('DELETE FROM templates WHERE person_id = ?');
  const delPhotos = db.prepare('DELETE FROM photos WHERE person_id = ?');
  const page = db.prepare(`SELECT ${COLUMNS} FROM people WHERE id > ? ORDER BY id LIMIT ?`);

  function write(p: Omit<Person, 'createdAt' | 'updatedAt'>, insert: boolean): void {
    const problems = referenceProblems(db, p.groups, p.schedules);
    if (problems.length) throw new StoreError('invalid', 'invalid person', problems);
    const params = {
      id: p.id,
      name: p.name,
      nameLc: p.name.toLowerCase(),
      employeeNo: p.employeeNo,
      active: p.active ? 1 : 0,
      validFrom: p.validFrom,
      validUntil: p.validUntil,
      validUntilMs: validityMs(p.validUntil, true),
      groups: JSON.stringify(p.groups),
      schedules: JSON.stringify(p.schedules),
      now: now(),
    };
    try {
      (insert ? insertStmt : updateStmt).run(params);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const taken = insert && getStmt.get(p.id) ? `person id "${p.id}" is taken` : `employee number "${p.employeeNo}" belongs to another person`;
      throw new StoreError('conflict', taken, [{ path: taken.startsWith('person') ? 'id' : 'employeeNo', message: taken }]);
    }
    delGroups.run(p.id);
    for (const g of new Set(p.groups)) addGroup.run(p.id, g);
    register.touch('person', p.id);
  }

  const create = db.transaction((input: unknown): Person => {
    const v = parseInput(personCreateSchema, input, 'person');
    const id = v.id ?? randomUUID();
    write({ ...v, id, groups: [...new Set(v.groups)] }, true);
    return fromRow(getStmt.get(id) as Row);
  });

  const update = db.transaction((id: string, patch: unknown): Person => {
    const v = parseInput(personPatchSchema, patch, 'person');
    const cur = getStmt.get(id) as Row | undefined;
    if (!cur) throw new StoreError('not_found', `person ${id} does not exist`);
    const next = { ...fromRow(cur), ...Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) } as Person;
    // Validity is checked on the merged record: a patch of one bound can contradict the stored other.
    const from = validityMs(next.validFrom, false);
    const until = validityMs(next.validUntil, true);
    if (from !== null && until !== null && until < from) {
      throw new StoreError('invalid', 'invalid person', [{ path: 'validUntil', message: 'validUntil is before validFrom' }]);
    }
    write({ ...next, groups: [...new Set(next.groups)] }, false);
    return fromRow(getStmt.get(id) as Row);
  });

  const remove = db.transaction((id: string): boolean => {
    if (!getStmt.get(id)) return false;
    delTemplates.run(id);
    delPhotos.run(id);
    delGroups.run(id);
    delPerson.run(id);
    register.touch('person', id, true);
    return true;
  });

  function list(filter: PeopleFilter = {}) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.q?.trim()) {
      where.push("(name_lc LIKE ? ESCAPE '\\' OR lower(employee_no) LIKE ? ESCAPE '\\')");
      const pat = likeSubstring(filter.q.trim());
      args.push(pat, pat);
    }
    if (filter.group) {
      where.push('EXISTS (SELECT 1 FROM person_groups pg WHERE pg.person_id = people.id AND pg.group_id = ?)');
      args.push(filter.group);
    }
    if (filter.active !== undefined) {
      where.push('active = ?');
      args.push(filter.active ? 1 : 0);
    }
    if (filter.expiringBefore !== undefined) {
      where.push('valid_until_ms IS NOT NULL AND valid_until_ms < ?');
      args.push(filter.expiringBefore);
    }
    const sqlWhere = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const limit = clampLimit(filter.limit, 50, 1000);
    const offset = Math.max(0, Math.floor(filter.offset ?? 0));
    const total = db.prepare(`SELECT count(*) FROM people ${sqlWhere}`).pluck().get(...args) as number;
    const rows = db.prepare(`SELECT ${COLUMNS} FROM people ${sqlWhere} ORDER BY name_lc, id LIMIT ? OFFSET ?`).all(...args, limit, offset) as Row[];
    return { items: rows.map(fromRow), total, limit, offset };
  }

  function* all(): IterableIterator<Person> {
    let after = '';
    for (;;) {
      const rows = page.all(after, 500) as Row[];
      if (!rows.length) return;
      for (const r of rows) yield fromRow(r);
      after = rows[rows.length - 1].id;
    }
  }

  return {
    get: (id) => {
      const r = getStmt.get(id) as Row | undefined;
      return r && fromRow(r);
    },
    list,
    all,
    create: (input) => create(input),
    update: (id, patch) => update(id, patch),
    remove: (id) => remove(id),
  };
}
