/**
 * The gateway's HTTP API (JSON under /api) on node:http. Order of checks for every request:
 * security headers; form and text/plain bodies to /api refused (415) so a cross-site form post
 * never reaches a handler; auth's own routes; route lookup; principal (401); admin role for
 * mutations (403); CSRF for mutations (403 csrf); media type of the body (415); handler. Every
 * admin action is written to the audit log with its actor before the answer goes out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenHttp, type Listening } from '../../core/http/listen.ts';
import { createLogger } from '../../core/log/logger.ts';
import { createEnrolment } from '../enrol/enrol.ts';
import { hasBody, mediaType, parseJson, readBody } from './body.ts';
import { type GatewayHttpConfig, gatewayHttpConfigSchema } from './config.ts';
import { ApiError, errorBody } from './errors.ts';
import { createRouter, STREAMED, type Reply, type RequestContext, type Route, type Services } from './router.ts';
import { routes } from './routes.ts';
import type { GatewayHttpDeps, Principal } from './types.ts';

const log = createLogger('gateway-http');

export interface GatewayHttp {
  readonly config: GatewayHttpConfig;
  readonly enrolment: Services['enrolment'];
  start(): Promise<{ host: string; port: number; url: string }>;
  stop(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'cross-origin-resource-policy': 'same-origin',
};

/** Media types a cross-site HTML form can send without a CORS preflight (multipart is only accepted on uploads, behind CSRF). */
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'text/plain']);

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function createGatewayHttp(deps: GatewayHttpDeps): GatewayHttp {
  const config = gatewayHttpConfigSchema.parse(deps.config ?? {});
  const now = deps.now ?? Date.now;
  const enrolment = deps.enrolment ?? createEnrolment({ store: deps.store, engine: deps.engine, config: deps.enrolConfig });
  const services: Services = {
    config,
    store: deps.store,
    auth: deps.auth,
    enrolment,
    provision: deps.provision,
    command: deps.command,
    decommission: deps.decommission,
    health: deps.health,
    metrics: deps.metrics,
    now,
  };
  const router = createRouter(routes);
  const timer = typeof deps.metrics === 'object' ? deps.metrics.startHttpTimer?.bind(deps.metrics) : undefined;
  let server: Listening | undefined;

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const isApi = path === '/api' || path.startsWith('/api/');
    if (isApi) res.setHeader('cache-control', 'no-store');
    if (isApi && FORM_TYPES.has(mediaType(req))) {
      throw new ApiError(415, 'unsupported_media_type', 'send JSON (application/json); form and text/plain bodies are refused');
    }
    if (isApi && (await deps.auth.handle(req, res, url))) return;
    if (!isApi && deps.ui && (await deps.ui(req, res, url))) return;

    const m = router.match(req.method ?? 'GET', path);
    if (!m) throw new ApiError(404, 'not_found', `no route ${path}`);
    if ('allow' in m) throw new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${path}`, undefined, { allow: m.allow.join(', ') });
    const { route, params } = m;

    let principal: Principal | null = null;
    if (route.role !== 'public') {
      principal = await deps.auth.principal(req);
      if (!principal) throw new ApiError(401, 'unauthenticated', 'log in first');
      if (route.role === 'admin' && principal.role !== 'admin') throw new ApiError(403, 'forbidden', `${principal.user} (${principal.role}) may not do this; it needs an admin`);
      if (route.method !== 'GET' && !deps.auth.checkCsrf(req)) throw new ApiError(403, 'csrf', 'missing or wrong CSRF token, or a cross-site request');
    }
    checkBodyType(req, route);

    let raw: Promise<Buffer> | undefined;
    const body = () => (raw ??= readBody(req, route.body === 'upload' ? config.maxUploadBytes : config.maxJsonBytes));
    const ctx: RequestContext = { req, res, url, params, principal, services, body, json: async () => parseJson(await body()) };
    const headBefore = deps.store.register.head();
    const reply = await route.handler(ctx);
    if (reply !== STREAMED) {
      if (route.role === 'admin') recordAdmin(route, principal!, params, reply);
      sendJson(res, reply.status, reply.body, reply.headers);
      if (reply.notifyDevices || deps.store.register.head() !== headBefore) notify();
    }
  }

  function checkBodyType(req: IncomingMessage, route: Route): void {
    const type = mediaType(req);
    if (!type && !hasBody(req)) return;
    if (type === 'application/json') return;
    if (route.body === 'upload' && type === 'multipart/form-data') return;
    throw new ApiError(415, 'unsupported_media_type', route.body === 'upload' ? 'send multipart/form-data or application/json' : 'send application/json');
  }

  function recordAdmin(route: Route & { role: 'admin' }, principal: Principal, params: Record<string, string>, reply: Reply): void {
    const a = reply.audit ?? {};
    deps.store.audit.record({
      actor: principal.user,
      action: route.action,
      target: a.target ?? params.id ?? null,
      deviceId: a.deviceId ?? null,
      personId: a.personId ?? null,
      door: a.door ?? null,
      details: { ...a.details, status: reply.status },
    });
  }

  function notify(): void {
    try {
      deps.onRegisterChange?.();
    } catch (err) {
      log.error('onRegisterChange failed', { error: (err as Error).message });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const done = timer?.(req.method ?? 'GET');
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      sendJson(res, 400, { error: 'bad_request', message: 'unparseable request URL' });
      done?.(400);
      return;
    }
    try {
      await dispatch(req, res, url);
    } catch (err) {
      const { status, body, headers } = errorBody(err, { method: req.method, path: url.pathname });
      if (res.headersSent) res.destroy();
      else sendJson(res, status, body, headers);
    }
    done?.(res.statusCode);
  }

  return {
    config,
    enrolment,
    async start() {
      if (server) throw new Error('gateway HTTP server already started');
      const l = await listenHttp(handle, { host: config.host, port: config.port, headersTimeoutMs: 10_000, requestTimeoutMs: config.requestTimeoutMs, what: 'gateway API', log });
      server = l;
      const { host, port } = l.address;
      const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
      const url = config.publicUrl ? config.publicUrl.replace(/\/+$/, '') : `http://${shown}:${port}`;
      log.info('gateway API listening', { host, port, url });
      return { host, port, url };
    },
    stop() {
      const l = server;
      server = undefined;
      return l ? l.stop() : Promise.resolve();
    },
  };
}
