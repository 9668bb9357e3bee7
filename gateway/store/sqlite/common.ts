/** Helpers shared by the SQLite repositories: validation into StoreError, reference checks, row ids. */
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { problemsOf, type Problem, type Schedule } from '../schemas.ts';
import { StoreError } from '../types.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new StoreError('invalid', `invalid ${what}`, problemsOf(r.error));
  return r.data;
}

/** Problems for group ids and schedule doors that do not exist ('*' is every door). */
export function referenceProblems(db: Database.Database, groups: string[] | undefined, schedules: Schedule[] | undefined): Problem[] {
  const problems: Problem[] = [];
  const groupExists = db.prepare('SELECT 1 FROM access_groups WHERE id = ?').pluck();
  const doorExists = db.prepare('SELECT 1 FROM doors WHERE id = ?').pluck();
  groups?.forEach((g, i) => {
    if (!groupExists.get(g)) problems.push({ path: `groups.${i}`, message: `group "${g}" does not exist` });
  });
  schedules?.forEach((s, i) => {
    if (s.door !== '*' && !doorExists.get(s.door)) problems.push({ path: `schedules.${i}.door`, message: `door "${s.door}" does not exist` });
  });
  return problems;
}

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** LIKE pattern for a case-insensitive substring, with % _ \ escaped (use with ESCAPE '\'). */
export const likeSubstring = (q: string): string => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`;

export const clampLimit = (limit: number | undefined, dflt: number, max: number): number =>
  Math.min(max, Math.max(1, Math.floor(Number.isFinite(limit) ? (limit as number) : dflt)));
