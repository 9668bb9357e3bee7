/**
 * Local status endpoint: GET /health, /state, /metrics. Read-only and small on purpose; it binds
 * to loopback unless configured otherwise, since /state reveals who was last let in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { listenHttp, type Listening } from '../../core/http/listen.ts';
import { createLogger } from '../../core/log/logger.ts';
import type { HttpConfig } from './config.ts';
import { evaluateHealth, type CameraStatus, type HealthInput } from './health.ts';

const log = createLogger('http');

export interface DeviceStateSnapshot {
  door: { state: string; since?: string | null };
  lastDecision: { at: string; door: string; granted: boolean; reason: string; personId?: string; liveness?: unknown } | null;
  camera: { status: CameraStatus; lastFrameAt?: string | null };
  gallerySize: number;
  outboxDepth: number;
  [extra: string]: unknown;
}

export interface StatusServerDeps {
  config: HttpConfig;
  /** Current snapshot for GET /state. */
  state: () => DeviceStateSnapshot;
  /** Inputs of GET /health. */
  health: () => HealthInput;
  /** Prometheus text for GET /metrics (e.g. `() => registry.metrics()`; prom-client renders asynchronously). */
  metrics: () => Promise<string> | string;
  /** Content type of that text (the registry's `contentType`); Prometheus text 0.0.4 by default. */
  metricsContentType?: string;
  now?: () => number;
}

export interface StatusServer {
  /** Resolves once listening, with the bound address (useful with port 0). */
  start(): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
}

const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);

export function createStatusServer(deps: StatusServerDeps): StatusServer {
  const now = deps.now ?? Date.now;
  const metricsContentType = deps.metricsContentType ?? Registry.PROMETHEUS_CONTENT_TYPE;
  let server: Listening | undefined;

  function send(res: ServerResponse, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(body);
  }
  const json = (res: ServerResponse, status: number, value: unknown) =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(value) + '\n');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes[path];
    if (!route) return json(res, 404, { error: 'not_found', paths: Object.keys(routes) });
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method_not_allowed' });
    try {
      await route(res);
    } catch (err) {
      log.error('status request failed', { path, error: (err as Error).message });
      json(res, 500, { error: 'internal', message: (err as Error).message });
    }
  }

  const routes: Record<string, (res: ServerResponse) => void | Promise<void>> = {
    '/health': (res) => {
      const h = evaluateHealth(deps.health(), deps.config.staleAfterMs, now());
      json(res, h.status === 'ok' ? 200 : 503, h);
    },
    '/state': (res) => json(res, 200, deps.state()),
    '/metrics': async (res) => send(res, 200, metricsContentType, await deps.metrics()),
  };

  return {
    async start() {
      if (server) throw new Error('status server already started');
      const { host, port } = deps.config;
      if (!loopbackHosts.has(host)) log.warn('status endpoint bound beyond loopback; /state exposes the last decision', { host, port });
      // Probes are tiny; a client that trickles headers is cut off early.
      server = await listenHttp(handle, { host, port, headersTimeoutMs: 5000, requestTimeoutMs: 10_000, what: 'status endpoint', log });
      log.info('status endpoint listening', server.address);
      return server.address;
    },
    stop() {
      const l = server;
      server = undefined;
      return l ? l.stop() : Promise.resolve();
    },
  };
}
