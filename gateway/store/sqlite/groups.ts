/**
 * Groups and doors. A group's schedules apply to every member, so changing a group touches the
 * group and each member in the register log (a member's need-to-know set of doors may change).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { doorCreateSchema, doorPatchSchema, groupCreateSchema, groupPatchSchema, type Schedule } from '../schemas.ts';
import { StoreError, type Door, type DoorsRepo, type Group, type GroupsRepo, type RegisterLog } from '../types.ts';
import { isUniqueViolation, parseInput, referenceProblems } from './common.ts';

interface GroupRow {
  id: string;
  name: string;
  schedules_json: string;
  created_at: number;
  updated_at: number;
}

const groupFrom = (r: GroupRow): Group => ({
  id: r.id,
  name: r.name,
  schedules: JSON.parse(r.schedules_json) as Schedule[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function createGroupsRepo(db: Database.Database, register: RegisterLog, now: () => number): GroupsRepo {
  const getStmt = db.prepare('SELECT id, name, schedules_json, created_at, updated_at FROM access_groups WHERE id = ?');
  const listStmt = db.prepare('SELECT id, name, schedules_json, created_at, updated_at FROM access_groups ORDER BY name, id');
  const insert = db.prepare('INSERT INTO access_groups (id, name, schedules_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
  const updateStmt = db.prepare('UPDATE access_groups SET name = ?, schedules_json = ?, updated_at = ? WHERE id = ?');
  const del = db.prepare('DELETE FROM access_groups WHERE id = ?');
  const membersStmt = db.prepare('SELECT person_id FROM person_groups WHERE group_id = ? ORDER BY person_id').pluck();
  const personGroups = db.prepare('SELECT groups_json FROM people WHERE id = ?').pluck();
  const setPersonGroups = db.prepare('UPDATE people SET groups_json = ?, updated_at = ? WHERE id = ?');
  const dropMembership = db.prepare('DELETE FROM person_groups WHERE group_id = ?');

  const touchMembers = (id: string) => {
    for (const pid of membersStmt.all(id) as string[]) register.touch('person', pid);
  };

  const create = db.transaction((input: unknown): Group => {
    const v = parseInput(groupCreateSchema, input, 'group');
    const problems = referenceProblems(db, undefined, v.schedules);
    if (problems.length) throw new StoreError('invalid', 'invalid group', problems);
    const id = v.id ?? randomUUID();
    try {
      insert.run(id, v.name, JSON.stringify(v.schedules), now(), now());
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('conflict', `group id "${id}" is taken`, [{ path: 'id', message: 'taken' }]);
      throw err;
    }
    register.touch('group', id);
    return groupFrom(getStmt.get(id) as GroupRow);
  });

  const update = db.transaction((id: string, patch: unknown): Group => {
    const v = parseInput(groupPatchSchema, patch, 'group');
    const cur = getStmt.get(id) as GroupRow | undefined;
    if (!cur) throw new StoreError('not_found', `group ${id} does not exist`);
    const problems = referenceProblems(db, undefined, v.schedules);
    if (problems.length) throw new StoreError('invalid', 'invalid group', problems);
    const g = groupFrom(cur);
    updateStmt.run(v.name ?? g.name, JSON.stringify(v.schedules ?? g.schedules), now(), id);
    register.touch('group', id);
    touchMembers(id);
    return groupFrom(getStmt.get(id) as GroupRow);
  });

  const remove = db.transaction((id: string): boolean => {
    if (!getStmt.get(id)) return false;
    for (const pid of membersStmt.all(id) as string[]) {
      const groups = (JSON.parse(personGroups.get(pid) as string) as string[]).filter((g) => g !== id);
      setPersonGroups.run(JSON.stringify(groups), now(), pid);
      register.touch('person', pid);
    }
    dropMembership.run(id);
    del.run(id);
    register.touch('group', id, true);
    return true;
  });

  return {
    get: (id) => {
      const r = getStmt.get(id) as GroupRow | undefined;
      return r && groupFrom(r);
    },
    list: () => (listStmt.all() as GroupRow[]).map(groupFrom),
    create: (input) => create(input),
    update: (id, patch) => update(id, patch),
    remove: (id) => remove(id),
    members: (id) => membersStmt.all(id) as string[],
  };
}

interface DoorRow {
  id: string;
  name: string;
  created_at: number;
}
const doorFrom = (r: DoorRow): Door => ({ id: r.id, name: r.name, createdAt: r.created_at });

export function createDoorsRepo(db: Database.Database, now: () => number): DoorsRepo {
  const getStmt = db.prepare('SELECT id, name, created_at FROM doors WHERE id = ?');
  const listStmt = db.prepare('SELECT id, name, created_at FROM doors ORDER BY name, id');
  const insert = db.prepare('INSERT INTO doors (id, name, created_at) VALUES (?, ?, ?)');
  const rename = db.prepare('UPDATE doors SET name = ? WHERE id = ?');
  const del = db.prepare('DELETE FROM doors WHERE id = ?');
  const devicesAt = db.prepare('SELECT id FROM devices WHERE door_id = ? ORDER BY id').pluck();
  const allSchedules = db.prepare("SELECT 'person' AS kind, id, schedules_json FROM people UNION ALL SELECT 'group' AS kind, id, schedules_json FROM access_groups");

  const remove = db.transaction((id: string): boolean => {
    if (!getStmt.get(id)) return false;
    const users: string[] = (devicesAt.all(id) as string[]).map((d) => `device ${d}`);
    // Schedules are JSON documents; a door is deleted rarely, so a scan is fine.
    for (const r of allSchedules.all() as { kind: string; id: string; schedules_json: string }[]) {
      if ((JSON.parse(r.schedules_json) as Schedule[]).some((s) => s.door === id)) users.push(`${r.kind} ${r.id}`);
    }
    if (users.length) {
      const shown = users.slice(0, 10).join(', ') + (users.length > 10 ? `, and ${users.length - 10} more` : '');
      throw new StoreError('conflict', `door ${id} is still used by ${shown}`);
    }
    return del.run(id).changes > 0;
  });

  return {
    get: (id) => {
      const r = getStmt.get(id) as DoorRow | undefined;
      return r && doorFrom(r);
    },
    list: () => (listStmt.all() as DoorRow[]).map(doorFrom),
    create(input) {
      const v = parseInput(doorCreateSchema, input, 'door');
      try {
        insert.run(v.id, v.name ?? v.id, now());
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreError('conflict', `door id "${v.id}" is taken`, [{ path: 'id', message: 'taken' }]);
        throw err;
      }
      return doorFrom(getStmt.get(v.id) as DoorRow);
    },
    update(id, patch) {
      const v = parseInput(doorPatchSchema, patch, 'door');
      if (rename.run(v.name, id).changes === 0) throw new StoreError('not_found', `door ${id} does not exist`);
      return doorFrom(getStmt.get(id) as DoorRow);
    },
    remove: (id) => remove(id),
  };
}
