/**
 * Login sessions. The cookie carries 32 random bytes; the database keeps only their SHA-256, so a
 * copy of the database does not let anyone resume a session. The CSRF token is an HMAC keyed by
 * the session id: it needs no storage and cannot be computed from the database either.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { GatewayAuthConfig } from './config.ts';
import { sha256, type Role } from './db.ts';

export interface SessionPrincipal {
  user: string;
  role: Role;
}

export interface SessionStore {
  /** Starts a session; returns the cookie value. */
  create(username: string): string;
  /**
   * The session's user, or null when unknown or expired (an expired row is removed). `touch`
   * (default true) counts the lookup as activity for the idle timeout.
   */
  lookup(id: string, touch?: boolean): SessionPrincipal | null;
  remove(id: string): void;
  /** Ends every session of a user except `keepId` (after a password change). */
  removeForUser(username: string, keepId?: string): void;
  purgeExpired(): void;
}

const idPattern = /^[A-Za-z0-9_-]{43}$/;

export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('portier csrf v1').digest('base64url');
}

export function createSessionStore(db: Database.Database, config: GatewayAuthConfig, now: () => number): SessionStore {
  const insert = db.prepare('INSERT INTO auth_sessions (id_hash, username, created_at, last_seen_at) VALUES (?, ?, ?, ?)');
  const select = db.prepare(
    'SELECT s.created_at, s.last_seen_at, u.username, u.role FROM auth_sessions s JOIN auth_users u ON u.username = s.username WHERE s.id_hash = ?',
  );
  const touch = db.prepare('UPDATE auth_sessions SET last_seen_at = ? WHERE id_hash = ?');
  const del = db.prepare('DELETE FROM auth_sessions WHERE id_hash = ?');
  const delUser = db.prepare('DELETE FROM auth_sessions WHERE username = ? AND id_hash <> ?');
  const purge = db.prepare('DELETE FROM auth_sessions WHERE last_seen_at <= ? OR created_at <= ?');

  return {
    create(username) {
      const id = randomBytes(32).toString('base64url');
      const t = now();
      insert.run(sha256(id), username, t, t);
      return id;
    },
    lookup(id, touchIt = true) {
      if (!idPattern.test(id)) return null;
      const h = sha256(id);
      const row = select.get(h) as { created_at: number; last_seen_at: number; username: string; role: Role } | undefined;
      if (!row) return null;
      const t = now();
      if (t - row.last_seen_at >= config.sessionIdleTimeoutMs || t - row.created_at >= config.sessionMaxAgeMs) {
        del.run(h);
        return null;
      }
      // One write per second at most: the idle clock does not need finer resolution.
      if (touchIt && t - row.last_seen_at >= 1000) touch.run(t, h);
      return { user: row.username, role: row.role };
    },
    remove(id) {
      if (idPattern.test(id)) del.run(sha256(id));
    },
    removeForUser(username, keepId) {
      delUser.run(username, keepId ? sha256(keepId) : '');
    },
    purgeExpired() {
      const t = now();
      purge.run(t - config.sessionIdleTimeoutMs, t - config.sessionMaxAgeMs);
    },
  };
}
