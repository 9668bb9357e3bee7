/** The auth endpoints. Every reply is JSON; every refusal is `{ error, message }`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Database from 'better-sqlite3';
import type { Logger } from '../../core/log/logger.ts';
import { safeEqual } from '../crypto/safe-equal.ts';
import type { GatewayAuthConfig } from './config.ts';
import {
  AuthError,
  clearSetupToken,
  countAdmins,
  deleteUser,
  getUser,
  insertUser,
  listUsers,
  normalizeUsername,
  requirePassword,
  requireRole,
  requireUsername,
  setupTokenHash,
  sha256,
  updatePasswordHash,
  type Role,
} from './db.ts';
import { clearedSessionCookie, clientIp, readCookie, readJson, sameOrigin, sendError, sendJson, SESSION_COOKIE, sessionCookie } from './http.ts';
import { hashPassword, verifyPassword } from './password.ts';
import type { FailureLimiter } from './rate-limit.ts';
import { csrfTokenFor, type SessionStore } from './sessions.ts';

export interface RouteContext {
  db: Database.Database;
  config: GatewayAuthConfig;
  now: () => number;
  log: Logger;
  audit: (entry: { actor: string; action: string; target?: string; details?: Record<string, unknown> }) => void;
  sessions: SessionStore;
  limiter: FailureLimiter;
  dummyHash: () => Promise<string>;
  principal: (req: IncomingMessage) => Promise<{ user: string; role: Role } | null>;
  checkCsrf: (req: IncomingMessage) => boolean;
  setupDone: () => void;
}

type Handler = (ctx: RouteContext, req: IncomingMessage, res: ServerResponse, param?: string) => Promise<void>;

const routes: Record<string, Partial<Record<string, Handler>>> = {
  '/api/setup/status': { GET: setupStatus },
  '/api/setup': { POST: setup },
  '/api/auth/login': { POST: login },
  '/api/auth/logout': { POST: logout },
  '/api/auth/session': { GET: session },
  '/api/auth/password': { POST: changePassword },
  '/api/users': { GET: usersList, POST: userCreate },
  '/api/users/:name': { DELETE: userDelete },
};

export async function dispatch(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  let path = url.pathname;
  let param: string | undefined;
  const m = /^\/api\/users\/([^/]+)$/.exec(path);
  if (m) {
    path = '/api/users/:name';
    try {
      param = decodeURIComponent(m[1]);
    } catch {
      param = '';
    }
  }
  const route = routes[path];
  if (!route) return false;
  const handler = route[req.method ?? 'GET'];
  if (!handler) {
    sendError(res, 405, 'method_not_allowed', `${req.method} is not allowed on ${url.pathname}`, { allow: Object.keys(route).join(', ') });
    return true;
  }
  try {
    await handler(ctx, req, res, param);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
    } else if (err instanceof AuthError) {
      sendError(res, err.status, err.code, err.message, err.headers);
    } else {
      ctx.log.error('auth request failed', { path: url.pathname, error: (err as Error).message });
      sendError(res, 500, 'internal', 'internal error');
    }
  }
  return true;
}

/** Session, CSRF and role checks for the endpoints that need a login. Throws the refusal. */
async function requireLogin(ctx: RouteContext, req: IncomingMessage, opts: { csrf: boolean; admin: boolean }) {
  const who = await ctx.principal(req);
  if (!who) throw new AuthError(401, 'unauthenticated', 'log in first');
  if (opts.csrf && !ctx.checkCsrf(req)) {
    ctx.log.warn('csrf check failed', { user: who.user, path: req.url, ip: clientIp(req, ctx.config.trustProxy) });
    throw new AuthError(403, 'csrf', 'missing or wrong x-csrf-token, or a cross-site request');
  }
  if (opts.admin && who.role !== 'admin') throw new AuthError(403, 'forbidden', 'admin role required');
  return who;
}

function requireSameOrigin(req: IncomingMessage): void {
  if (!sameOrigin(req)) throw new AuthError(403, 'cross_site', 'cross-site request refused');
}

function startSession(ctx: RouteContext, res: ServerResponse, user: string, role: Role, status: number): void {
  ctx.sessions.purgeExpired();
  const id = ctx.sessions.create(user);
  sendJson(res, status, { user, role, csrfToken: csrfTokenFor(id) }, { 'set-cookie': sessionCookie(id, ctx.config.sessionMaxAgeMs, ctx.config.secureCookies) });
}

/** Refuses with 429 and Retry-After while any of `keys` has too many recent failures. */
function checkRateLimit(ctx: RouteContext, keys: string[], what: string): void {
  const wait = Math.max(0, ...keys.map((k) => ctx.limiter.retryAfterMs(k)));
  if (wait <= 0) return;
  ctx.log.warn(`${what} rate limited`, { keys });
  throw new AuthError(429, 'rate_limited', 'too many failed attempts; try again later', { 'retry-after': String(Math.ceil(wait / 1000)) });
}

async function setupStatus(ctx: RouteContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, { needed: countAdmins(ctx.db) === 0 });
}

async function setup(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireSameOrigin(req);
  const ip = clientIp(req, ctx.config.trustProxy);
  checkRateLimit(ctx, [`ip:${ip}`], 'setup');
  const body = await readJson(req, ctx.config.maxBodyBytes);
  if (countAdmins(ctx.db) > 0) throw new AuthError(409, 'setup_done', 'setup is complete; log in instead');
  const tokenOk = (): boolean => {
    const stored = setupTokenHash(ctx.db);
    return typeof body.token === 'string' && !!stored && safeEqual(sha256(body.token), stored);
  };
  if (!tokenOk()) {
    ctx.limiter.fail(`ip:${ip}`);
    ctx.audit({ actor: 'anonymous', action: 'auth.setup_failed', details: { ip, reason: 'invalid_token' } });
    throw new AuthError(403, 'invalid_setup_token', 'the setup token is wrong or already used');
  }
  const username = requireUsername(body.username);
  const password = requirePassword(body.password, ctx.config.minPasswordLength);
  const hash = await hashPassword(password, ctx.config.scryptLogN);
  // Checked again inside the transaction: two setups racing through the await above must not both win.
  ctx.db.transaction(() => {
    if (countAdmins(ctx.db) > 0) throw new AuthError(409, 'setup_done', 'setup is complete; log in instead');
    if (!tokenOk()) throw new AuthError(403, 'invalid_setup_token', 'the setup token is wrong or already used');
    insertUser(ctx.db, username, hash, 'admin', ctx.now());
    clearSetupToken(ctx.db);
  })();
  ctx.setupDone();
  ctx.audit({ actor: username, action: 'auth.setup', target: username, details: { ip, role: 'admin' } });
  ctx.log.info('first admin created', { user: username });
  startSession(ctx, res, username, 'admin', 201);
}

async function login(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireSameOrigin(req);
  const body = await readJson(req, ctx.config.maxBodyBytes);
  const ip = clientIp(req, ctx.config.trustProxy);
  const username = normalizeUsername(body.username) ?? '';
  const keys = [`ip:${ip}`, `user:${username}`];
  checkRateLimit(ctx, keys, 'login');
  // Charged before the (slow) hash so parallel guesses cannot all slip under the limit.
  const charged = keys.map((k) => ctx.limiter.fail(k));
  const user = username ? getUser(ctx.db, username) : undefined;
  const password = typeof body.password === 'string' && body.password.length <= 1024 ? body.password : '';
  // Unknown users are checked against a dummy hash so both failures cost the same time.
  const ok = (await verifyPassword(password, user?.password_hash ?? (await ctx.dummyHash()))) && !!user && password !== '';
  if (!ok || !user) {
    ctx.audit({ actor: 'anonymous', action: 'auth.login_failed', target: user?.username, details: { ip, reason: user ? 'bad_password' : 'unknown_user' } });
    throw new AuthError(401, 'invalid_credentials', 'wrong username or password');
  }
  ctx.limiter.refund(keys[0], charged[0]);
  ctx.limiter.clear(keys[1]);
  ctx.db.prepare('UPDATE auth_users SET last_login_at = ? WHERE username = ?').run(ctx.now(), user.username);
  ctx.audit({ actor: user.username, action: 'auth.login', details: { ip } });
  startSession(ctx, res, user.username, user.role, 200);
}

async function logout(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const who = await requireLogin(ctx, req, { csrf: true, admin: false });
  const id = readCookie(req, SESSION_COOKIE);
  if (id) ctx.sessions.remove(id);
  ctx.audit({ actor: who.user, action: 'auth.logout', details: { ip: clientIp(req, ctx.config.trustProxy) } });
  sendJson(res, 200, { ok: true }, { 'set-cookie': clearedSessionCookie(ctx.config.secureCookies) });
}

async function session(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // `?optional=1` (the UI at start): "not logged in" is an answer, not an error, so a fresh page
  // load logs no failed request in the browser console.
  const optional = new URL(req.url ?? '/', 'http://gateway.invalid').searchParams.get('optional') === '1';
  let who;
  try {
    who = await requireLogin(ctx, req, { csrf: false, admin: false });
  } catch (err) {
    if (optional && (err as { status?: number }).status === 401) return sendJson(res, 200, { user: null });
    throw err;
  }
  const id = readCookie(req, SESSION_COOKIE)!;
  sendJson(res, 200, { user: who.user, role: who.role, csrfToken: csrfTokenFor(id) });
}

async function changePassword(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const who = await requireLogin(ctx, req, { csrf: true, admin: false });
  const ip = clientIp(req, ctx.config.trustProxy);
  const keys = [`ip:${ip}`, `user:${who.user}`];
  checkRateLimit(ctx, keys, 'password change');
  const body = await readJson(req, ctx.config.maxBodyBytes);
  const user = getUser(ctx.db, who.user);
  const current = typeof body.currentPassword === 'string' && body.currentPassword.length <= 1024 ? body.currentPassword : '';
  if (!user || !current || !(await verifyPassword(current, user.password_hash))) {
    for (const k of keys) ctx.limiter.fail(k);
    ctx.audit({ actor: who.user, action: 'auth.password_change_failed', target: who.user, details: { ip, reason: 'bad_current_password' } });
    throw new AuthError(403, 'invalid_credentials', 'current password is wrong');
  }
  const next = requirePassword(body.newPassword, ctx.config.minPasswordLength);
  updatePasswordHash(ctx.db, who.user, await hashPassword(next, ctx.config.scryptLogN), ctx.now());
  // Other sessions (perhaps a thief's) end; this one stays.
  ctx.sessions.removeForUser(who.user, readCookie(req, SESSION_COOKIE) ?? undefined);
  ctx.audit({ actor: who.user, action: 'auth.password_change', target: who.user, details: { ip } });
  sendJson(res, 200, { ok: true });
}

async function usersList(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  await requireLogin(ctx, req, { csrf: false, admin: true });
  const users = listUsers(ctx.db).map((u) => ({ username: u.username, role: u.role, createdAt: u.created_at, lastLoginAt: u.last_login_at }));
  sendJson(res, 200, { users });
}

async function userCreate(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const who = await requireLogin(ctx, req, { csrf: true, admin: true });
  const body = await readJson(req, ctx.config.maxBodyBytes);
  const username = requireUsername(body.username);
  const role = requireRole(body.role ?? 'viewer');
  const password = requirePassword(body.password, ctx.config.minPasswordLength);
  if (getUser(ctx.db, username)) throw new AuthError(409, 'user_exists', `user ${username} already exists`);
  insertUser(ctx.db, username, await hashPassword(password, ctx.config.scryptLogN), role, ctx.now());
  ctx.audit({ actor: who.user, action: 'user.create', target: username, details: { role } });
  sendJson(res, 201, { username, role });
}

async function userDelete(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, name?: string): Promise<void> {
  const who = await requireLogin(ctx, req, { csrf: true, admin: true });
  const username = normalizeUsername(name);
  if (!username) throw new AuthError(404, 'not_found', `no user ${name ?? ''}`);
  const removed = deleteUser(ctx.db, username);
  ctx.audit({ actor: who.user, action: 'user.delete', target: username, details: { role: removed.role } });
  const self = username === who.user;
  sendJson(res, 200, { ok: true }, self ? { 'set-cookie': clearedSessionCookie(ctx.config.secureCookies) } : {});
}
