/**
 * Audit outbox: every decision and door event waits here until the gateway acknowledges it.
 * append() returns only after the insert is committed with synchronous=FULL (WAL fsynced), so the
 * daemon can append before releasing the relay. Sequence numbers never repeat (AUTOINCREMENT) and
 * every event carries a uuid the gateway uses to drop duplicates.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { createLogger } from '../../core/log/logger.ts';

const log = createLogger('store');

export interface OutboxEventInput {
  kind: string;
  body: unknown;
  /** Milliseconds since the epoch; defaults to now. */
  ts?: number;
  /** Caller-chosen uuid (e.g. to correlate with logs); generated when absent. */
  id?: string;
}

export interface OutboxEvent {
  seq: number;
  id: string;
  ts: number;
  kind: string;
  body: unknown;
}

export class StoreFullError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}: storage is full (${(cause as Error)?.message ?? cause}); nothing already stored was lost`, { cause });
    this.name = 'StoreFullError';
  }
}

function rethrow(what: string, err: unknown): never {
  const code = (err as { code?: string })?.code ?? '';
  if (code.startsWith('SQLITE_FULL') || code === 'SQLITE_IOERR_WRITE') {
    log.error(`${what} failed: storage full`, { code });
    throw new StoreFullError(what, err);
  }
  throw err;
}

export class Outbox {
  private readonly insert: Database.Statement;
  private readonly peekStmt: Database.Statement;
  private readonly ackUpTo: Database.Statement;
  private readonly ackOne: Database.Statement;
  private readonly ackList: (seqs: number[]) => number;
  /** Kept in memory: count(*) is a full scan in SQLite; this process is the only writer. */
  private pending: number;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO outbox (id, ts, kind, body) VALUES (?, ?, ?, ?)');
    this.peekStmt = db.prepare('SELECT seq, id, ts, kind, body FROM outbox ORDER BY seq LIMIT ?');
    this.ackUpTo = db.prepare('DELETE FROM outbox WHERE seq <= ?');
    this.ackOne = db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.ackList = db.transaction((seqs: number[]) => {
      let n = 0;
      for (const s of seqs) n += this.ackOne.run(s).changes;
      return n;
    });
    this.pending = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  }

  /** Durable when it returns. Throws StoreFullError when the disk is full. */
  append(event: OutboxEventInput): number {
    if (!event || typeof event.kind !== 'string' || !event.kind) throw new Error('outbox event needs a non-empty kind');
    const body = JSON.stringify(event.body ?? null);
    let info: Database.RunResult;
    try {
      info = this.insert.run(event.id ?? randomUUID(), event.ts ?? Date.now(), event.kind, body);
    } catch (err) {
      rethrow('audit outbox append', err);
    }
    this.pending++;
    return Number(info.lastInsertRowid);
  }

  /** Oldest un-acknowledged events, oldest first. */
  peek(limit = 100): OutboxEvent[] {
    const rows = this.peekStmt.all(limit) as { seq: number; id: string; ts: number; kind: string; body: string }[];
    return rows.map((r) => ({ seq: r.seq, id: r.id, ts: r.ts, kind: r.kind, body: JSON.parse(r.body) }));
  }

  /** Delete acknowledged events: every seq up to and including `upTo`, or exactly the listed seqs. Returns how many. */
  ack(upToOrSeqs: number | number[]): number {
    let n: number;
    try {
      n = Array.isArray(upToOrSeqs) ? this.ackList(upToOrSeqs) : this.ackUpTo.run(upToOrSeqs).changes;
    } catch (err) {
      rethrow('audit outbox ack', err);
    }
    this.pending -= n;
    return n;
  }

  count(): number {
    return this.pending;
  }
}
