/** A real gateway HTTP server on port 0 over a real store in a temp folder, with fake auth, provision and command. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach } from 'vitest';
import type { EnrolEngine } from '../../../gateway/enrol/enrol.ts';
import { createGatewayHttp, type GatewayHttp } from '../../../gateway/http/server.ts';
import type { AuthGate, CommandFn, CommandResult, GatewayHttpDeps, Principal, ProvisionFn } from '../../../gateway/http/types.ts';
import type { SqliteGatewayStore } from '../../../gateway/store/open.ts';
import { storeSuite } from '../store/helpers.ts';

/** Auth double: `x-test-user: name:role` is the session, `x-csrf-token: good` passes CSRF; /api/auth/ping is its own route. */
export function fakeAuth(): AuthGate & { handled: string[] } {
  const handled: string[] = [];
  return {
    handled,
    async handle(_req: IncomingMessage, res: ServerResponse, url: URL) {
      if (!url.pathname.startsWith('/api/auth/')) return false;
      handled.push(url.pathname);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"auth":true}');
      return true;
    },
    async principal(req) {
      const h = req.headers['x-test-user'];
      if (typeof h !== 'string') return null;
      const [user, role] = h.split(':');
      return { user, role: role as Principal['role'] };
    },
    checkCsrf: (req) => req.headers['x-csrf-token'] === 'good',
  };
}

export interface Api {
  base: string;
  store: SqliteGatewayStore;
  http: GatewayHttp;
  auth: ReturnType<typeof fakeAuth>;
  commands: { deviceId: string; command: string; args: unknown; actor: string }[];
  provisions: { deviceId: string; opts: unknown }[];
  registerChanges: () => number;
  /** fetch as a user: 'admin' (alice, with CSRF token), 'viewer' (victor), 'admin-nocsrf', or null (anonymous). */
  call(who: 'admin' | 'viewer' | 'admin-nocsrf' | null, path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

const noEngine: EnrolEngine = {
  analyzeImage: () => Promise.reject(new Error('this test has no vision engine')),
};

export function apiSuite() {
  const stores = storeSuite();
  const servers: GatewayHttp[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });
  return async (
    o: Partial<GatewayHttpDeps> & {
      storeConfig?: Record<string, unknown>;
      commandResult?: CommandResult | (() => Promise<CommandResult>);
      /** The real auth (or another) over this store, instead of the x-test-user double. */
      makeAuth?: (store: SqliteGatewayStore) => AuthGate;
    } = {},
  ): Promise<Api> => {
    const store = stores.open(stores.dir(), o.storeConfig ?? {});
    const auth = fakeAuth();
    const commands: Api['commands'] = [];
    const provisions: Api['provisions'] = [];
    let changes = 0;
    const command: CommandFn = async (deviceId, cmd, args, actor) => {
      commands.push({ deviceId, command: cmd, args, actor });
      const r = o.commandResult ?? { ok: true, result: { done: true } };
      return typeof r === 'function' ? r() : r;
    };
    const provision: ProvisionFn = async (deviceId, opts) => {
      provisions.push({ deviceId, opts });
      store.devices.create({ id: deviceId, name: opts.name, doorId: opts.doorId, brokerPasswordHash: 'scrypt$hash', joinSecretHash: 'join-hash' });
      return { bundle: 'portier-join:SECRET-BUNDLE', mosquitto: { passwordLine: `${deviceId}:$7$hash`, aclLines: [`user ${deviceId}`] } };
    };
    const http = createGatewayHttp({
      config: { host: '127.0.0.1', port: 0, maxJsonBytes: 64 * 1024, ...((o.config as object) ?? {}) },
      store,
      auth: o.makeAuth ? o.makeAuth(store) : auth,
      engine: o.engine ?? noEngine,
      provision: o.provision ?? provision,
      command: o.command ?? command,
      metrics: o.metrics ?? (async () => '# HELP portier_up 1\nportier_up 1\n'),
      onRegisterChange: () => changes++,
      health: o.health,
      decommission: o.decommission,
    });
    servers.push(http);
    const { port } = await http.start();
    const base = `http://127.0.0.1:${port}`;
    const who = { admin: 'alice:admin', viewer: 'victor:viewer', 'admin-nocsrf': 'alice:admin' } as const;
    return {
      base,
      store,
      http,
      auth,
      commands,
      provisions,
      registerChanges: () => changes,
      call(user, path, init = {}) {
        const headers = new Headers(init.headers);
        if (user) headers.set('x-test-user', who[user]);
        if (user === 'admin' || user === 'viewer') headers.set('x-csrf-token', 'good');
        let body = init.body;
        if (init.json !== undefined) {
          body = JSON.stringify(init.json);
          if (!headers.has('content-type')) headers.set('content-type', 'application/json');
        }
        return fetch(base + path, { ...init, headers, body });
      },
    };
  };
}
