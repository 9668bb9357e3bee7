/**
 * Gateway authentication: first-admin setup with a one-time token, password logins with session
 * cookies, CSRF checks, login rate limit, and the admin/viewer roles. The HTTP server routes
 * `/api/setup*`, `/api/auth/*` and `/api/users*` here and asks principal()/checkCsrf() for the rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Database from 'better-sqlite3';
import { createLogger, type Logger } from '../../core/log/logger.ts';
import { safeEqual } from '../crypto/safe-equal.ts';
import type { GatewayAuthConfig } from './config.ts';
import { countAdmins, ensureAuthTables, resetSetupToken, setupTokenHash, sha256, type Role } from './db.ts';
import { readCookie, sameOrigin, SESSION_COOKIE } from './http.ts';
import { dummyHash } from './password.ts';
import { createFailureLimiter } from './rate-limit.ts';
import { dispatch, type RouteContext } from './routes.ts';
import { createSessionStore, csrfTokenFor } from './sessions.ts';

export { gatewayAuthConfigSchema, defaultGatewayAuthConfig, type GatewayAuthConfig } from './config.ts';
export { createUser, resetSetupToken, setPassword, AuthError, type Role } from './db.ts';

export interface AuthAuditEntry {
  actor: string;
  action: string;
  target?: string;
  details?: Record<string, unknown>;
}

export interface AuthDeps {
  db: Database.Database;
  config: GatewayAuthConfig;
  /** Called for every auth action (setup, login ok/failed, logout, user create/delete, password change). */
  audit: (entry: AuthAuditEntry) => void;
  now?: () => number;
  log?: Logger;
}

export interface Principal {
  user: string;
  role: Role;
}

export interface Auth {
  /** Serves the auth endpoints; false when `url` is not one of them. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** The logged-in user of this request, or null; `touch: false` does not count as activity (idle timeout). */
  principal(req: IncomingMessage, opts?: { touch?: boolean }): Promise<Principal | null>;
  /** For state-changing requests: same-origin headers and the session's x-csrf-token. */
  checkCsrf(req: IncomingMessage): boolean;
  /** An opaque key of the request's session (the hash the database keeps), for per-session limits; never sent. */
  sessionKey(req: IncomingMessage): string | null;
  /** The one-time setup token while no admin exists (print it as a setup link), else null. */
  setupToken(): string | null;
  needsSetup(): boolean;
}

export function createAuth(deps: AuthDeps): Auth {
  const { db, config } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? createLogger('gateway:auth');
  ensureAuthTables(db);

  // Regenerated at every start while no admin exists, so a token seen in an old log is dead.
  let token: string | null = countAdmins(db) === 0 ? resetSetupToken(db, now()) : null;
  if (token) log.info('no admin account yet: open the setup link printed at start to create one');

  const sessions = createSessionStore(db, config, now);
  const limiter = createFailureLimiter(config.loginMaxFailures, config.loginWindowMs, now);
  const dummy = dummyHash(config.scryptLogN);
  // Made eagerly so the first unknown-user login is not faster than the rest; a failure here
  // would only surface as a rejected login.
  dummy.catch((err) => log.error('cannot prepare dummy password hash', { error: (err as Error).message }));

  const needsSetup = () => countAdmins(db) === 0;

  async function principal(req: IncomingMessage, opts: { touch?: boolean } = {}): Promise<Principal | null> {
    const id = readCookie(req, SESSION_COOKIE);
    return id ? sessions.lookup(id, opts.touch ?? true) : null;
  }

  function checkCsrf(req: IncomingMessage): boolean {
    if (!sameOrigin(req)) return false;
    const id = readCookie(req, SESSION_COOKIE);
    const header = req.headers['x-csrf-token'];
    if (!id || typeof header !== 'string' || !header) return false;
    return safeEqual(header, csrfTokenFor(id));
  }

  const ctx: RouteContext = {
    db,
    config,
    now,
    log,
    audit: deps.audit,
    sessions,
    limiter,
    dummyHash: () => dummy,
    principal,
    checkCsrf,
    setupDone: () => {
      token = null;
    },
  };

  return {
    handle: (req, res, url) => dispatch(ctx, req, res, url),
    principal,
    checkCsrf,
    sessionKey(req) {
      const id = readCookie(req, SESSION_COOKIE);
      return id ? sha256(id) : null;
    },
    setupToken() {
      if (!token) return null;
      // The CLI may have issued a newer token, or an admin may have been made another way.
      if (needsSetup() && setupTokenHash(db) === sha256(token)) return token;
      return null;
    },
    needsSetup,
  };
}
