/**
 * Routes are data: method, path pattern, role, description and handler. The same table drives
 * dispatch, the role checks and the README's API reference, so the documentation cannot drift.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Enrolment } from '../enrol/enrol.ts';
import type { GatewayStore } from '../store/types.ts';
import type { GatewayHttpConfig } from './config.ts';
import type { AuthGate, CommandFn, GatewayHttpDeps, Principal, ProvisionFn } from './types.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** What an admin action writes to the audit log besides actor, action and outcome. */
export interface AuditNote {
  target?: string | null;
  details?: Record<string, unknown>;
  deviceId?: string | null;
  personId?: string | null;
  door?: string | null;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  audit?: AuditNote;
  /** Devices must hear about this change even if the register log did not move (e.g. a device's door). */
  notifyDevices?: boolean;
}

/** Handlers that write the response themselves (streams) return this. */
export const STREAMED: unique symbol = Symbol('streamed');

export interface Services {
  config: GatewayHttpConfig;
  store: GatewayStore;
  /** Long-lived responses (the audit stream) re-check their login with it while open. */
  auth: Pick<AuthGate, 'principal' | 'sessionKey'>;
  enrolment: Enrolment;
  provision: ProvisionFn;
  command: CommandFn;
  decommission?: GatewayHttpDeps['decommission'];
  health?: GatewayHttpDeps['health'];
  metrics: GatewayHttpDeps['metrics'];
  now: () => number;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Set on every route except public ones. */
  principal: Principal | null;
  services: Services;
  /** The raw body, within maxUploadBytes for upload routes and maxJsonBytes otherwise. */
  body(): Promise<Buffer>;
  /** The request body parsed as JSON ({} when empty). */
  json(): Promise<unknown>;
}

export type Handler = (ctx: RequestContext) => Promise<Reply | typeof STREAMED> | Reply | typeof STREAMED;

interface RouteBase {
  method: Method;
  /** Literal segments and `:name` parameters, e.g. /api/people/:id. */
  path: string;
  description: string;
  /** upload: multipart/form-data or JSON up to maxUploadBytes; json (default for mutations): application/json only. */
  body?: 'json' | 'upload';
  handler: Handler;
}

/** Mutations are admin-only and each names the action recorded in the audit log. */
export type Route = RouteBase & ({ role: 'public' | 'viewer'; method: 'GET' } | { role: 'admin'; action: string });

interface Compiled {
  route: Route;
  parts: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export function createRouter(routes: Route[]) {
  const compiled: Compiled[] = routes.map((route) => ({ route, parts: route.path.split('/').slice(1) }));
  const seen = new Set<string>();
  for (const r of routes) {
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) throw new Error(`route ${key} is defined twice`);
    seen.add(key);
  }
  return {
    /** The matching route, or the methods the path allows (405), or null (404). */
    match(method: string, path: string): Match | { allow: string[] } | null {
      const segs = path.split('/').slice(1);
      const allow: string[] = [];
      for (const c of compiled) {
        if (c.parts.length !== segs.length) continue;
        const params: Record<string, string> = {};
        let ok = true;
        for (let i = 0; i < segs.length && ok; i++) {
          const p = c.parts[i];
          if (p.startsWith(':')) {
            let v: string;
            try {
              v = decodeURIComponent(segs[i]);
            } catch {
              ok = false;
              break;
            }
            if (!v) ok = false;
            else params[p.slice(1)] = v;
          } else if (p !== segs[i]) ok = false;
        }
        if (!ok) continue;
        if (c.route.method === method) return { route: c.route, params };
        allow.push(c.route.method);
      }
      return allow.length ? { allow } : null;
    },
  };
}
