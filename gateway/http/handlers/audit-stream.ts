/**
 * GET /api/audit/stream: the audit log live, as server-sent events, for the admin UI's live view.
 * Each new entry goes out once as `id: <audit id>` + `data: <JSON as in GET /api/audit>`; the
 * browser's EventSource reconnects by itself after `retry` ms and sends `Last-Event-ID`, so
 * nothing is lost across a gateway restart or a dropped connection. The store is polled (one
 * indexed query per tick) rather than hooked, so entries written by any path — device ingest,
 * admin actions, another process on the same database — all show up. A comment line every
 * pingMs keeps proxies and NAT from dropping an idle connection. The timer stops as soon as the
 * response closes (client gone, or the server's stop() destroying the socket).
 *
 * The login is checked again before every read, without counting as activity: after a logout,
 * a deleted user, a password change (other sessions end) or an idle timeout the stream ends
 * before it sends anything more, and an open live view alone does not keep a session alive.
 * Each session may hold a few streams at once (tabs); more are refused with 429 so a runaway page
 * cannot make the gateway poll its database without bound.
 */
import type { ServerResponse } from 'node:http';
import { createLogger } from '../../../core/log/logger.ts';
import type { GatewayStore } from '../../store/types.ts';
import { auditView, personNames } from '../present.ts';
import { ApiError } from '../errors.ts';
import { QueryReader } from '../query.ts';
import { STREAMED, type Handler, type Services } from '../router.ts';

const log = createLogger('gateway-http');

export interface AuditStreamOptions {
  /** How often the store is read for new entries. */
  pollMs?: number;
  /** Idle time after which a `: ping` comment is sent. */
  pingMs?: number;
  /** Browser reconnect delay announced in the `retry:` field. */
  retryMs?: number;
  /** Entries read per query; a backlog (reconnect after a while) is sent over several ticks. */
  batch?: number;
  /** Streams one login session may hold open at once; the next one gets 429. */
  maxPerSession?: number;
}

/** Where to start: Last-Event-ID (browser reconnect), `?after=` (a page reopening its stream), else the newest entry. */
function startId(store: GatewayStore, header: string | string[] | undefined, after: number | undefined): number {
  const h = Array.isArray(header) ? header[0] : header;
  if (h !== undefined && /^\d{1,15}$/.test(h.trim())) return Number(h.trim());
  if (after !== undefined) return after;
  return store.audit.lastId();
}

export function createAuditStream(opts: AuditStreamOptions = {}): Handler {
  const pollMs = opts.pollMs ?? 500;
  const pingMs = opts.pingMs ?? 15_000;
  const retryMs = opts.retryMs ?? 2000;
  const batch = opts.batch ?? 200;
  const maxPerSession = opts.maxPerSession ?? 5;
  // Open streams per session key, per server (its services object).
  const openBy = new WeakMap<Services, Map<string, number>>();

  return (ctx) => {
    const q = new QueryReader(ctx.url.searchParams);
    const after = q.int('after', 0, Number.MAX_SAFE_INTEGER);
    q.done();
    const { store, auth } = ctx.services;
    const req = ctx.req;
    const res: ServerResponse = ctx.res;

    const open = openBy.get(ctx.services) ?? new Map<string, number>();
    openBy.set(ctx.services, open);
    const key = auth.sessionKey?.(req) ?? `user:${ctx.principal?.user ?? ''}`;
    const held = open.get(key) ?? 0;
    if (held >= maxPerSession) throw new ApiError(429, 'too_many_streams', `this session already has ${held} live audit streams open; close one first`);
    open.set(key, held + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const n = (open.get(key) ?? 1) - 1;
      if (n > 0) open.set(key, n);
      else open.delete(key);
    };

    let last = startId(store, req.headers['last-event-id'], after);

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Reverse proxies (nginx) would otherwise hold events back in their buffer.
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();

    let lastWrite = Date.now();
    let waitingForDrain = false;
    const write = (text: string) => {
      lastWrite = Date.now();
      if (!res.write(text)) {
        waitingForDrain = true;
        res.once('drain', () => (waitingForDrain = false));
      }
    };

    let busy = false;
    const tick = async () => {
      if (res.destroyed || res.writableEnded) return stop();
      if (waitingForDrain || busy) return; // a slow client: read more only once it has taken what it has
      busy = true;
      try {
        // Logged out, deleted, password changed or idle: end before sending anything more.
        if (!(await auth.principal(req, { touch: false }))) {
          stop();
          res.end();
          return;
        }
        if (res.destroyed || res.writableEnded) return stop();
        const entries = store.audit.since(last, batch);
        if (entries.length) {
          const names = personNames(store, entries);
          let chunk = '';
          for (const e of entries) chunk += `id: ${e.id}\ndata: ${JSON.stringify(auditView(e, names))}\n\n`;
          last = entries[entries.length - 1].id;
          write(chunk);
        } else if (Date.now() - lastWrite >= pingMs) write(': ping\n\n');
      } catch (err) {
        // The store is gone (gateway stopping) or broken: end the stream, the browser retries.
        log.warn('audit stream stopped', { error: (err as Error).message });
        stop();
        res.end();
      } finally {
        busy = false;
      }
    };

    const timer = setInterval(() => void tick(), pollMs);
    // Never the reason the process stays up.
    timer.unref();
    function stop() {
      clearInterval(timer);
      release();
    }
    res.once('close', stop);
    write(`retry: ${retryMs}\n\n`);
    return STREAMED;
  };
}

export const auditStream: Handler = createAuditStream();
