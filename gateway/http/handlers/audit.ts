/** /api/audit: search (paged, newest first) and CSV export (streamed page by page). */
import type { AuditQuery } from '../../store/types.ts';
import { csvLine } from '../csv.ts';
import { auditView, personNames } from '../present.ts';
import { QueryReader } from '../query.ts';
import { STREAMED, type Handler, type RequestContext } from '../router.ts';

function filters(ctx: RequestContext): AuditQuery & { total: boolean } {
  const q = new QueryReader(ctx.url.searchParams);
  const f = {
    personId: q.str('person', 128),
    door: q.str('door', 63),
    deviceId: q.str('device', 63),
    kind: q.str('kind', 64),
    decision: q.oneOf('decision', ['granted', 'denied'] as const),
    reason: q.str('reason', 200),
    actor: q.str('actor', 200),
    from: q.time('from'),
    to: q.time('to'),
    limit: q.int('limit', 1, 1000) ?? 50,
    offset: q.int('offset', 0, 10_000_000),
    cursor: q.str('cursor', 200),
    total: q.bool('total') ?? false,
  };
  q.done();
  return f;
}

export const searchAudit: Handler = (ctx) => {
  const { total, ...f } = filters(ctx);
  const { store } = ctx.services;
  const page = store.audit.search(f);
  const names = personNames(store, page.items);
  const { limit, offset, cursor, ...countFilter } = f;
  return {
    status: 200,
    body: { items: page.items.map((e) => auditView(e, names)), nextCursor: page.nextCursor, ...(total ? { total: store.audit.count(countFilter) } : {}) },
  };
};

const columns = ['time', 'device', 'kind', 'decision', 'reason', 'person_id', 'person_name', 'door', 'actor', 'target', 'event_id', 'details'];

export const exportAuditCsv: Handler = async (ctx): Promise<typeof STREAMED> => {
  const { total, limit, offset, cursor, ...f } = filters(ctx);
  const { store } = ctx.services;
  const { res } = ctx;
  const stamp = new Date(ctx.services.now()).toISOString().slice(0, 19).replace(/[:T]/g, '-');
  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="portier-audit-${stamp}.csv"`,
  });
  // The connection is never held while a page is read, so other requests keep being served.
  const write = (chunk: string) => (res.write(chunk) ? Promise.resolve() : new Promise<void>((r) => res.once('drain', r)));
  await write('\ufeff' + csvLine(columns));
  let next: string | undefined;
  do {
    if (res.destroyed) return STREAMED;
    const page = store.audit.search({ ...f, limit: 1000, cursor: next });
    const names = personNames(store, page.items);
    let chunk = '';
    for (const e of page.items) {
      chunk += csvLine([new Date(e.ts).toISOString(), e.deviceId, e.kind, e.decision, e.reason, e.personId, e.personId ? names.get(e.personId) : null, e.door, e.actor, e.target, e.eventId, e.body]);
    }
    await write(chunk);
    next = page.nextCursor ?? undefined;
  } while (next);
  res.end();
  return STREAMED;
};
