/** Helpers shared by the SQLite repositories: validation into StoreError, reference checks, row ids. */
import { randomBytes } from 'node:crypto';
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

let lastMs = 0;
let counter = 0;
/**
 * A UUIDv7 (RFC 9562): 48-bit milliseconds, then a 12-bit counter within the millisecond, then
 * random bits. Ids sort in creation order, so "oldest first" holds for rows made in the same
 * millisecond without a database-specific row number.
 */
export function timeOrderedId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else counter = (counter + 1) & 0xfff;
  const b = randomBytes(16);
  const ms = lastMs;
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
