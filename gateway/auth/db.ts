/**
 * Auth tables in the gateway database, and the user operations the HTTP routes and the CLI
 * (`npm run portier -- ...`) share. SQL stays portable (a PostgreSQL backend follows): BIGINT
 * milliseconds, TEXT keys, no SQLite-only syntax beyond CREATE ... IF NOT EXISTS.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { defaultGatewayAuthConfig } from './config.ts';
import { hashPassword } from './password.ts';

export type Role = 'admin' | 'viewer';
export const roles: readonly Role[] = ['admin', 'viewer'];

export interface UserRow {
  username: string;
  role: Role;
  password_hash: string;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

/** A refusal the caller can show as is (HTTP maps `status`; the CLI prints `message`). */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export function ensureAuthTables(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS auth_users (
      username TEXT PRIMARY KEY,
      role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
      password_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      last_login_at BIGINT
    );
    CREATE TABLE IF NOT EXISTS auth_sessions (
      id_hash TEXT PRIMARY KEY,
      username TEXT NOT NULL REFERENCES auth_users(username) ON DELETE CASCADE,
      created_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions(username);
    CREATE TABLE IF NOT EXISTS auth_setup (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      token_hash TEXT NOT NULL,
      created_at BIGINT NOT NULL
    );
  `);
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const usernamePattern = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

/** Usernames are compared lowercased; null when the name is not acceptable. */
export function normalizeUsername(name: unknown): string | null {
  if (typeof name !== 'string') return null;
  const n = name.trim().toLowerCase();
  return usernamePattern.test(n) ? n : null;
}

export function requireUsername(name: unknown): string {
  const n = normalizeUsername(name);
  if (!n) throw new AuthError(400, 'invalid_username', 'username: 1-64 characters a-z 0-9 . _ @ -, starting with a letter or digit');
  return n;
}

export function requirePassword(password: unknown, minLength: number): string {
  if (typeof password !== 'string') throw new AuthError(400, 'invalid_password', 'password must be a string');
  const len = [...password].length;
  if (len < minLength) throw new AuthError(400, 'password_too_short', `password must be at least ${minLength} characters`);
  if (len > 1024) throw new AuthError(400, 'password_too_long', 'password must be at most 1024 characters');
  return password;
}

export function requireRole(role: unknown): Role {
  if (!roles.includes(role as Role)) throw new AuthError(400, 'invalid_role', `role must be one of ${roles.join(', ')}`);
  return role as Role;
}

export function getUser(db: Database.Database, username: string): UserRow | undefined {
  return db.prepare('SELECT * FROM auth_users WHERE username = ?').get(username) as UserRow | undefined;
}

export function listUsers(db: Database.Database): UserRow[] {
  return db.prepare('SELECT * FROM auth_users ORDER BY username').all() as UserRow[];
}

export function countAdmins(db: Database.Database): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM auth_users WHERE role = 'admin'").get() as { n: number }).n;
}

export function insertUser(db: Database.Database, username: string, passwordHash: string, role: Role, now: number): void {
  if (getUser(db, username)) throw new AuthError(409, 'user_exists', `user ${username} already exists`);
  db.prepare('INSERT INTO auth_users (username, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(
    username,
    role,
    passwordHash,
    now,
    now,
  );
}

/** Deletes a user and their sessions; refuses to remove the last admin. */
export function deleteUser(db: Database.Database, username: string): UserRow {
  return db.transaction(() => {
    const user = getUser(db, username);
    if (!user) throw new AuthError(404, 'not_found', `no user ${username}`);
    if (user.role === 'admin' && countAdmins(db) <= 1) throw new AuthError(409, 'last_admin', 'cannot delete the last admin');
    db.prepare('DELETE FROM auth_sessions WHERE username = ?').run(username);
    db.prepare('DELETE FROM auth_users WHERE username = ?').run(username);
    return user;
  })();
}

export function updatePasswordHash(db: Database.Database, username: string, passwordHash: string, now: number): void {
  db.prepare('UPDATE auth_users SET password_hash = ?, updated_at = ? WHERE username = ?').run(passwordHash, now, username);
}

// ---- one-time setup token (only its hash is stored) ----

export function setupTokenHash(db: Database.Database): string | null {
  const row = db.prepare('SELECT token_hash FROM auth_setup WHERE id = 1').get() as { token_hash: string } | undefined;
  return row?.token_hash ?? null;
}

export function clearSetupToken(db: Database.Database): void {
  db.prepare('DELETE FROM auth_setup WHERE id = 1').run();
}

/**
 * Makes a new one-time setup token (32 random bytes, base64url), replacing any earlier one, and
 * returns it. Null when an admin exists: setup is over, and the token would be useless.
 */
export function resetSetupToken(db: Database.Database, now: number = Date.now()): string | null {
  ensureAuthTables(db);
  if (countAdmins(db) > 0) {
    clearSetupToken(db);
    return null;
  }
  const token = randomBytes(32).toString('base64url');
  db.prepare(
    'INSERT INTO auth_setup (id, token_hash, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at',
  ).run(sha256(token), now);
  return token;
}

export interface CliUserOptions {
  minPasswordLength?: number;
  scryptLogN?: number;
}

/** CLI: creates a user (e.g. a recovery admin). Throws AuthError on a bad name, short password or duplicate. */
export async function createUser(db: Database.Database, username: string, password: string, role: Role, opts: CliUserOptions = {}): Promise<void> {
  ensureAuthTables(db);
  const defaults = defaultGatewayAuthConfig();
  const name = requireUsername(username);
  requireRole(role);
  requirePassword(password, opts.minPasswordLength ?? defaults.minPasswordLength);
  const hash = await hashPassword(password, opts.scryptLogN ?? defaults.scryptLogN);
  db.transaction(() => {
    insertUser(db, name, hash, role, Date.now());
    if (role === 'admin') clearSetupToken(db);
  })();
}

/** CLI: sets a user's password (forgotten password) and ends their sessions. */
export async function setPassword(db: Database.Database, username: string, password: string, opts: CliUserOptions = {}): Promise<void> {
  ensureAuthTables(db);
  const defaults = defaultGatewayAuthConfig();
  const name = requireUsername(username);
  requirePassword(password, opts.minPasswordLength ?? defaults.minPasswordLength);
  if (!getUser(db, name)) throw new AuthError(404, 'not_found', `no user ${name}`);
  const hash = await hashPassword(password, opts.scryptLogN ?? defaults.scryptLogN);
  db.transaction(() => {
    updatePasswordHash(db, name, hash, Date.now());
    db.prepare('DELETE FROM auth_sessions WHERE username = ?').run(name);
  })();
}
