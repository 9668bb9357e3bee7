/**
 * The audit log: device events (stored exactly once per device and event id, whatever the
 * number of redeliveries) and admin actions (who did what). Searchable columns are extracted
 * from the event body at ingest; the body is kept whole. Pages are newest first with a keyset
 * cursor (ts, id), so paging stays fast and stable while new events arrive.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { StoreError, type AdminAction, type AuditEntry, type AuditFilter, type AuditLog, type AuditQuery, type DeviceEventInput } from '../types.ts';
import { clampLimit } from './common.ts';

interface Row {
  id: number;
  device_id: string | null;
  event_id: string;
  seq: number | null;
  ts: number;
  kind: string;
  decision: string | null;
  reason: string | null;
  person_id: string | null;
  door: string | null;
  actor: string | null;
  target: string | null;
  body: string;
  received_at: number;
}

const fromRow = (r: Row): AuditEntry => ({
  id: r.id,
  deviceId: r.device_id,
  eventId: r.event_id,
  seq: r.seq,
  ts: r.ts,
  kind: r.kind,
  decision: r.decision as AuditEntry['decision'],
  reason: r.reason,
  personId: r.person_id,
  door: r.door,
  actor: r.actor,
  target: r.target,
  body: JSON.parse(r.body),
  receivedAt: r.received_at,
});

const str = (v: unknown, max = 200): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null);

/** Searchable columns of a device event. Door events are searched by their type (unlocked, forced_open_alarm, ...). */
export function extractColumns(kind: string, body: unknown): { decision: string | null; reason: string | null; personId: string | null; door: string | null } {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const decision = kind === 'decision' && typeof b.granted === 'boolean' ? (b.granted ? 'granted' : 'denied') : null;
  const reason = kind === 'door' ? (str(b.type) ?? str(b.reason)) : str(b.reason);
  return { decision, reason, personId: str(b.personId), door: str(b.door) };
}

function validEvent(e: DeviceEventInput): boolean {
  return (
    !!e &&
    typeof e.id === 'string' &&
    e.id.length > 0 &&
    e.id.length <= 128 &&
    typeof e.kind === 'string' &&
    e.kind.length > 0 &&
    e.kind.length <= 64 &&
    typeof e.ts === 'number' &&
    Number.isFinite(e.ts) &&
    (e.seq === undefined || e.seq === null || Number.isFinite(e.seq))
  );
}

interface CursorKey {
  ts: number;
  id: number;
}
const encodeCursor = (k: CursorKey) => Buffer.from(JSON.stringify([k.ts, k.id])).toString('base64url');
function decodeCursor(c: string): CursorKey {
  try {
    const [ts, id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown[];
    if (typeof ts === 'number' && typeof id === 'number' && Number.isFinite(ts) && Number.isInteger(id)) return { ts, id };
  } catch {
    // fall through
  }
  throw new StoreError('invalid', 'invalid audit cursor', [{ path: 'cursor', message: 'not a cursor from a previous page' }]);
}

function whereOf(f: AuditFilter): { sql: string[]; args: unknown[] } {
  const sql: string[] = [];
  const args: unknown[] = [];
  const eq = (col: string, v: unknown) => {
    if (v === undefined || v === null || v === '') return;
    sql.push(`${col} = ?`);
    args.push(v);
  };
  eq('person_id', f.personId);
  eq('door', f.door);
  eq('device_id', f.deviceId);
  eq('kind', f.kind);
  eq('decision', f.decision);
  // "not_live" finds every liveness refusal, whichever cue it names (not_live:screen_border, ...).
  if (f.reason === 'not_live') {
    sql.push("(reason = 'not_live' OR reason LIKE 'not\\_live:%' ESCAPE '\\')");
  } else eq('reason', f.reason);
  eq('actor', f.actor);
  if (f.from !== undefined) {
    sql.push('ts >= ?');
    args.push(f.from);
  }
  if (f.to !== undefined) {
    sql.push('ts < ?');
    args.push(f.to);
  }
  return { sql, args };
}

export function createAuditLog(db: Database.Database, now: () => number): AuditLog {
  const insert = db.prepare(`
    INSERT INTO audit_log (device_id, event_id, seq, ts, kind, decision, reason, person_id, door, actor, target, body, received_at)
    VALUES (@deviceId, @eventId, @seq, @ts, @kind, @decision, @reason, @personId, @door, @actor, @target, @body, @receivedAt)
    ON CONFLICT (device_id, event_id) DO NOTHING`);
  const byId = db.prepare('SELECT * FROM audit_log WHERE id = ?');
  const after = db.prepare('SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?');
  const maxId = db.prepare('SELECT COALESCE(MAX(id), 0) FROM audit_log').pluck();

  const ingest = db.transaction((deviceId: string, events: DeviceEventInput[]) => {
    let inserted = 0;
    let duplicates = 0;
    let rejected = 0;
    const receivedAt = now();
    for (const e of events) {
      if (!validEvent(e)) {
        rejected++;
        continue;
      }
      const cols = extractColumns(e.kind, e.body);
      const info = insert.run({
        deviceId,
        eventId: e.id,
        seq: e.seq ?? null,
        ts: Math.round(e.ts),
        kind: e.kind,
        ...cols,
        actor: null,
        target: null,
        body: JSON.stringify(e.body ?? null),
        receivedAt,
      });
      if (info.changes > 0) inserted++;
      else duplicates++;
    }
    return { inserted, duplicates, rejected };
  });

  return {
    ingest(deviceId, events) {
      if (!deviceId) throw new Error('audit ingest needs a device id');
      return ingest(deviceId, events);
    },
    record(a: AdminAction) {
      if (!a.actor || !a.action) throw new Error('an admin action needs an actor and an action');
      const t = now();
      const info = insert.run({
        deviceId: a.deviceId ?? null,
        eventId: randomUUID(),
        seq: null,
        ts: t,
        kind: 'admin',
        decision: null,
        reason: a.action,
        personId: a.personId ?? null,
        door: a.door ?? null,
        actor: a.actor,
        target: a.target ?? null,
        body: JSON.stringify({ action: a.action, target: a.target ?? null, details: a.details ?? null }),
        receivedAt: t,
      });
      return fromRow(byId.get(info.lastInsertRowid) as Row);
    },
    search(q: AuditQuery = {}) {
      const { sql, args } = whereOf(q);
      const limit = clampLimit(q.limit, 50, 1000);
      let offset = '';
      if (q.cursor) {
        const k = decodeCursor(q.cursor);
        sql.push('(ts < ? OR (ts = ? AND id < ?))');
        args.push(k.ts, k.ts, k.id);
      } else if (q.offset) {
        offset = ` OFFSET ${Math.max(0, Math.floor(q.offset))}`;
      }
      const where = sql.length ? `WHERE ${sql.join(' AND ')}` : '';
      const rows = db.prepare(`SELECT * FROM audit_log ${where} ORDER BY ts DESC, id DESC LIMIT ?${offset}`).all(...args, limit + 1) as Row[];
      const more = rows.length > limit;
      const items = rows.slice(0, limit).map(fromRow);
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? encodeCursor({ ts: last.ts, id: last.id }) : null };
    },
    count(f: AuditFilter = {}) {
      const { sql, args } = whereOf(f);
      return db.prepare(`SELECT count(*) FROM audit_log ${sql.length ? `WHERE ${sql.join(' AND ')}` : ''}`).pluck().get(...args) as number;
    },
    since(afterId: number, limit: number) {
      const from = Number.isInteger(afterId) && afterId > 0 ? afterId : 0;
      return (after.all(from, clampLimit(limit, 100, 1000)) as Row[]).map(fromRow);
    },
    lastId() {
      return maxId.get() as number;
    },
  };
}
