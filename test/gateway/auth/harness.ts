/**
 * Auth test bench: a temp SQLite database, createAuth() and a real node:http server on port 0
 * that routes to handle(), plus dummy routes protected by principal() and checkCsrf() the way the
 * gateway's API will be.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createAuth, gatewayAuthConfigSchema, type Auth, type AuthAuditEntry } from '../../../gateway/auth/index.ts';
import type { GatewayAuthConfig } from '../../../gateway/auth/config.ts';
import type { Logger } from '../../../core/log/logger.ts';

// Refusals are logged as warnings by design; here they are the expected outcome, not noise to read.
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** Raw body (sent as is with the given content-type). */
  raw?: string;
  contentType?: string;
  cookie?: string | null;
  csrf?: string;
  headers?: Record<string, string>;
}

export interface Bench {
  db: Database.Database;
  auth: Auth;
  port: number;
  audit: AuthAuditEntry[];
  config: GatewayAuthConfig;
  clock: { t: number };
  call(path: string, opts?: CallOptions): Promise<Reply>;
  /** Restarts auth (same database), as a gateway restart would. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const benches: Bench[] = [];

export async function startBench(configOver: Partial<GatewayAuthConfig> = {}): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'portier-auth-'));
  const db = new Database(join(dir, 'gateway.db'));
  db.pragma('journal_mode = WAL');
  const config = gatewayAuthConfigSchema.parse(configOver);
  const audit: AuthAuditEntry[] = [];
  const clock = { t: 1_700_000_000_000 };
  const make = () => createAuth({ db, config, audit: (e) => audit.push(e), now: () => clock.t, log: quiet });
  let auth = make();

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (await auth.handle(req, res, url)) return;
      if (url.pathname === '/api/protected' || url.pathname === '/api/admin-only') {
        const who = await auth.principal(req);
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (!who) return reply(401, { error: 'unauthenticated', message: 'log in' });
        if (req.method !== 'GET' && !auth.checkCsrf(req)) return reply(403, { error: 'csrf', message: 'csrf' });
        if (url.pathname === '/api/admin-only' && who.role !== 'admin') return reply(403, { error: 'forbidden', message: 'admin' });
        return reply(200, { ok: true, user: who.user, role: who.role, method: req.method });
      }
      res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const call = (path: string, opts: CallOptions = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      let payload: string | undefined;
      if (opts.raw !== undefined) {
        payload = opts.raw;
        headers['content-type'] = opts.contentType ?? 'application/json';
      } else if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers['content-type'] = opts.contentType ?? 'application/json';
      }
      if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
      if (opts.cookie) headers.cookie = opts.cookie;
      if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
      const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? (payload !== undefined ? 'POST' : 'GET'), headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let body: unknown = undefined;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });

  const bench: Bench = {
    db,
    get auth() {
      return auth;
    },
    port,
    audit,
    config,
    clock,
    call,
    async restart() {
      auth = make();
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  benches.push(bench);
  return bench;
}

export async function closeBenches(): Promise<void> {
  while (benches.length) await benches.pop()!.close();
}

/** The `name=value` part of a Set-Cookie reply, for sending back. */
export function cookieFrom(reply: Reply): string {
  const set = reply.headers['set-cookie'];
  const line = Array.isArray(set) ? set[0] : set;
  if (!line) throw new Error(`no set-cookie in reply ${reply.status} ${reply.text}`);
  return line.split(';')[0];
}

export const ADMIN = { username: 'root', password: 'correct horse battery' };

/** Runs first-admin setup and returns the admin's cookie and CSRF token. */
export async function setupAdmin(b: Bench, who = ADMIN): Promise<{ cookie: string; csrf: string }> {
  const token = b.auth.setupToken();
  if (!token) throw new Error('no setup token');
  const r = await b.call('/api/setup', { body: { token, ...who } });
  if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${r.text}`);
  return { cookie: cookieFrom(r), csrf: r.body.csrfToken };
}

export async function login(b: Bench, username: string, password: string, headers: Record<string, string> = {}) {
  const r = await b.call('/api/auth/login', { body: { username, password }, headers });
  return { reply: r, cookie: r.status === 200 ? cookieFrom(r) : '', csrf: r.body?.csrfToken as string };
}

/** Admin creates a user through the API. */
export async function addUser(b: Bench, admin: { cookie: string; csrf: string }, username: string, password: string, role: 'admin' | 'viewer') {
  const r = await b.call('/api/users', { body: { username, password, role }, cookie: admin.cookie, csrf: admin.csrf });
  if (r.status !== 201) throw new Error(`create user failed: ${r.status} ${r.text}`);
}
