/** GET /api/audit/stream over real HTTP: new entries arrive as server-sent events, resumable, and end cleanly. */
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createAuth, gatewayAuthConfigSchema, type Auth } from '../../../gateway/auth/index.ts';
import type { Logger } from '../../../core/log/logger.ts';
import { createAuditStream } from '../../../gateway/http/handlers/audit-stream.ts';
import type { RequestContext } from '../../../gateway/http/router.ts';
import { storeSuite } from '../store/helpers.ts';
import { apiSuite } from './harness.ts';

interface SseEvent {
  id?: string;
  data?: string;
}

/** An SSE connection read with node:http, so the test sees exactly the bytes and the close. */
function connect(base: string, path = '/api/audit/stream', headers: Record<string, string> = { 'x-test-user': 'victor:viewer' }) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let raw = '';
  let res: IncomingMessage | undefined;
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const ready = new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(base + path, { headers }, (r) => {
      res = r;
      r.setEncoding('utf8');
      let buf = '';
      r.on('data', (chunk: string) => {
        raw += chunk;
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev: SseEvent = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else if (line.startsWith('id: ')) ev.id = line.slice(4);
            else if (line.startsWith('data: ')) ev.data = line.slice(6);
          }
          if (ev.data !== undefined) events.push(ev);
        }
        wake();
      });
      r.on('close', () => {
        closed = true;
        wake();
      });
      r.on('error', () => undefined);
      resolve(r);
    });
    req.on('error', (err) => {
      closed = true;
      wake();
      reject(err);
    });
    req.end();
  });
  return {
    ready,
    events,
    comments,
    raw: () => raw,
    closed: () => closed,
    close: () => res?.destroy(),
    async until(pred: () => boolean, ms = 4000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out; received: ${JSON.stringify(raw)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

/** The stream's poll timers (500 ms intervals) still running. */
function pollTimers() {
  const live = new Set<unknown>();
  const set = vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: () => void, ms?: number) => {
    const t = realSetInterval(fn, ms);
    if (ms === 500) live.add(t);
    return t;
  }) as typeof setInterval);
  const clear = vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t?: NodeJS.Timeout) => {
    live.delete(t);
    realClearInterval(t);
  }) as typeof clearInterval);
  return { count: () => live.size, restore: () => (set.mockRestore(), clear.mockRestore()) };
}
const realSetInterval = globalThis.setInterval;
const realClearInterval = globalThis.clearInterval;

async function eventually(pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  expect(pred()).toBe(true);
}

// Refusals are logged as warnings by design; here they are the expected outcome.
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** The gateway with the real auth (its clock in the test's hands) and a logged-in admin's cookie and CSRF token. */
async function withRealAuth(start: ReturnType<typeof apiSuite>) {
  const clock = { t: Date.now() };
  let auth!: Auth;
  const api = await start({
    makeAuth: (store) => (auth = createAuth({ db: store.db, config: gatewayAuthConfigSchema.parse({ scryptLogN: 14 }), audit: () => undefined, now: () => clock.t, log: quiet })),
  });
  const setup = await fetch(`${api.base}/api/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: auth.setupToken(), username: 'root', password: 'correct horse battery' }),
  });
  expect(setup.status).toBe(201);
  const cookie = setup.headers.get('set-cookie')!.split(';')[0];
  const { csrfToken } = (await setup.json()) as { csrfToken: string };
  return { api, auth, clock, cookie, csrf: csrfToken };
}

const decision = (id: string) => ({ id, ts: Date.now(), kind: 'decision', body: { granted: true, door: 'main' } });

describe('gateway API: live audit stream', () => {
  const start = apiSuite();

  it('sends entries ingested or recorded after connecting, with the person name, and nothing from before', async () => {
    const api = await start();
    const grace = api.store.people.create({ name: 'Grace Hopper' });
    api.store.audit.ingest('dev-1', [{ id: 'old', ts: Date.now() - 60_000, kind: 'decision', body: { granted: true, personId: grace.id, door: 'main' } }]);
    const sse = connect(api.base);
    const res = await sse.ready;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    await sse.until(() => sse.raw().includes('retry: 2000\n\n'));

    api.store.audit.ingest('dev-1', [
      { id: 'e1', ts: Date.now(), kind: 'decision', body: { granted: true, reason: 'granted', personId: grace.id, door: 'main' } },
      { id: 'e2', ts: Date.now(), kind: 'decision', body: { granted: false, reason: 'outside_schedule', personId: grace.id, door: 'main' } },
    ]);
    await sse.until(() => sse.events.length >= 2);
    const [a, b] = sse.events.map((e) => JSON.parse(e.data!));
    expect(a).toMatchObject({ eventId: 'e1', kind: 'decision', decision: 'granted', personId: grace.id, personName: 'Grace Hopper', door: 'main', deviceId: 'dev-1' });
    expect(b).toMatchObject({ eventId: 'e2', decision: 'denied', reason: 'outside_schedule', personName: 'Grace Hopper' });
    expect(sse.events.map((e) => Number(e.id))).toEqual([a.id, b.id]);
    expect(a.id).toBeLessThan(b.id);

    // An admin action through the API shows up too.
    api.store.devices.create({ id: 'dev-1', doorId: null });
    expect((await api.call('admin', '/api/devices/dev-1/unlock', { method: 'POST', json: { reason: 'courier at the door' } })).status).toBe(200);
    await sse.until(() => sse.events.length >= 3);
    expect(JSON.parse(sse.events[2].data!)).toMatchObject({ kind: 'admin', reason: 'device.unlock', actor: 'alice', deviceId: 'dev-1' });
    expect(sse.raw()).not.toContain('"old"');
    sse.close();
  });

  it('resumes after Last-Event-ID (browser reconnect) or ?after=, sending what was missed once', async () => {
    const api = await start();
    api.store.audit.ingest('dev-1', [1, 2, 3].map((i) => ({ id: `e${i}`, ts: Date.now(), kind: 'decision', body: { granted: true } })));
    const [first] = api.store.audit.since(0, 10);
    const sse = connect(api.base, '/api/audit/stream', { 'x-test-user': 'victor:viewer', 'last-event-id': String(first.id) });
    await sse.until(() => sse.events.length >= 2);
    expect(sse.events.map((e) => JSON.parse(e.data!).eventId)).toEqual(['e2', 'e3']);
    sse.close();
    const byQuery = connect(api.base, `/api/audit/stream?after=${first.id + 1}`);
    await byQuery.until(() => byQuery.events.length >= 1);
    await new Promise((r) => setTimeout(r, 700));
    expect(byQuery.events.map((e) => JSON.parse(e.data!).eventId)).toEqual(['e3']);
    byQuery.close();
    expect((await api.call('viewer', '/api/audit/stream?after=-1')).status).toBe(400);
  });

  it('refuses an anonymous client with 401 and no stream', async () => {
    const api = await start();
    const r = await api.call(null, '/api/audit/stream');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect((await r.json()).error).toBe('unauthenticated');
  });

  it('stops its timer when the client goes away', async () => {
    const api = await start();
    const timers = pollTimers();
    try {
      const sse = connect(api.base);
      await sse.until(() => sse.raw().includes('retry:'));
      expect(timers.count()).toBe(1);
      sse.close();
      await eventually(() => timers.count() === 0);
    } finally {
      timers.restore();
    }
  });

  it('closes cleanly when the server stops: stop() resolves at once, the client sees the end, no timer left', async () => {
    const api = await start();
    const timers = pollTimers();
    try {
      const sse = connect(api.base);
      await sse.until(() => sse.raw().includes('retry:'));
      expect(timers.count()).toBe(1);
      const t0 = Date.now();
      await api.http.stop();
      expect(Date.now() - t0).toBeLessThan(1000);
      await sse.until(() => sse.closed());
      await eventually(() => timers.count() === 0);
    } finally {
      timers.restore();
    }
  });

  it('ends when the session is logged out, and sends nothing written after', async () => {
    const { api, cookie, csrf } = await withRealAuth(start);
    const sse = connect(api.base, '/api/audit/stream', { cookie });
    expect((await sse.ready).statusCode).toBe(200);
    api.store.audit.ingest('dev-1', [decision('before')]);
    await sse.until(() => sse.raw().includes('"before"'));

    const out = await fetch(`${api.base}/api/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    await sse.until(() => sse.closed());
    api.store.audit.ingest('dev-1', [decision('after')]);
    await new Promise((r) => setTimeout(r, 700));
    expect(sse.raw()).not.toContain('"after"');
    // Reconnecting with the dead cookie is refused.
    expect((await fetch(`${api.base}/api/audit/stream`, { headers: { cookie } })).status).toBe(401);
  });

  it('ends at the idle timeout: an open stream does not keep the session alive', async () => {
    const { api, clock, cookie } = await withRealAuth(start);
    const sse = connect(api.base, '/api/audit/stream', { cookie });
    await sse.until(() => sse.raw().includes('retry:'));
    // 20 minutes of watching (the stream re-checks the login many times meanwhile) ...
    clock.t += 20 * 60_000;
    await new Promise((r) => setTimeout(r, 700));
    expect(sse.closed()).toBe(false);
    api.store.audit.ingest('dev-1', [decision('while-watching')]);
    await sse.until(() => sse.raw().includes('"while-watching"'));
    // ... then 20 more: 40 minutes since the last request, past the 30-minute idle timeout.
    clock.t += 20 * 60_000;
    await sse.until(() => sse.closed());
    api.store.audit.ingest('dev-1', [decision('after-expiry')]);
    await new Promise((r) => setTimeout(r, 700));
    expect(sse.raw()).not.toContain('"after-expiry"');
  });

  it('allows five streams per session and refuses the sixth with 429 until one closes', async () => {
    const api = await start();
    const streams = [1, 2, 3, 4, 5].map(() => connect(api.base));
    for (const s of streams) expect((await s.ready).statusCode).toBe(200);
    const sixth = await api.call('viewer', '/api/audit/stream');
    expect(sixth.status).toBe(429);
    expect((await sixth.json()).error).toBe('too_many_streams');
    // Another user (another session) is not affected.
    const other = connect(api.base, '/api/audit/stream', { 'x-test-user': 'alice:admin' });
    expect((await other.ready).statusCode).toBe(200);
    other.close();
    streams[0].close();
    const again = connect(api.base);
    await eventually(() => again.raw().includes('retry:'));
    expect((await again.ready).statusCode).toBe(200);
    for (const s of [...streams.slice(1), again]) s.close();
  });

  it('reads the store after an id, oldest first, and knows the newest id', async () => {
    const api = await start();
    expect(api.store.audit.lastId()).toBe(0);
    expect(api.store.audit.since(0, 10)).toEqual([]);
    // Arrival order, not event time: a late event from an offline device still comes after.
    api.store.audit.ingest('dev-1', [
      { id: 'late', ts: 2_000, kind: 'decision', body: {} },
      { id: 'early', ts: 1_000, kind: 'decision', body: {} },
    ]);
    api.store.audit.record({ actor: 'alice', action: 'person.create' });
    const all = api.store.audit.since(0, 10);
    expect(all.map((e) => e.eventId.length > 10 ? 'admin' : e.eventId)).toEqual(['late', 'early', 'admin']);
    expect(api.store.audit.lastId()).toBe(all[2].id);
    expect(api.store.audit.since(all[0].id, 1).map((e) => e.eventId)).toEqual(['early']);
    expect(api.store.audit.since(all[2].id, 10)).toEqual([]);
  });
});

describe('gateway API: live audit stream keep-alive', () => {
  const stores = storeSuite();

  it('sends a ping comment on an idle stream', async () => {
    const store = stores.open(stores.dir());
    const handler = createAuditStream({ pollMs: 20, pingMs: 100 });
    const server = createServer((req, res) => {
      const auth = { principal: async () => ({ user: 'victor', role: 'viewer' as const }) };
      const ctx = { req, res, url: new URL(req.url!, 'http://x'), params: {}, principal: null, services: { store, auth } } as unknown as RequestContext;
      void handler(ctx);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const sse = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      await sse.until(() => sse.comments.includes(': ping'));
      sse.close();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
