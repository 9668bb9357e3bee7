/**
 * Register sync: ask for the changes after the local cursor, apply each page, and follow `more`
 * and `notify`. One request in flight; one unanswered for 2 x ackTimeoutMs is asked again. A page
 * that does not start at the local cursor (a late duplicate) is ignored, so the cursor never
 * moves back.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../core/log/logger.ts';
import { type DownBody, SECOND_TEMPLATES_FEATURE } from '../../core/sync/contract.ts';
import { type ApplySummary, ChangesRefused } from './apply-changes.ts';
import type { SyncState } from './state.ts';
import type { UpLink } from './uplink.ts';

const log = createLogger('sync');

type Changes = DownBody<'changes'>;

export interface RegisterSyncOptions {
  state: SyncState;
  up: Pick<UpLink, 'send' | 'connected'>;
  ackTimeoutMs: number;
  gatewayReachable: () => boolean;
  apply: (body: Changes) => Promise<ApplySummary>;
  /** A page whose templates do not open: a security rejection. */
  onRefused: (message: string) => void;
}

export class RegisterSync {
  private inflight: { tid: string; timer: NodeJS.Timeout } | null = null;
  private again = false;
  private stopped = false;
  /** The snapshot the last applied page belonged to: echoed so the gateway continues or closes it. */
  private snapshot: string | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly o: RegisterSyncOptions) {}

  /** Ask for changes after the cursor (or note that another request is due after the current one). */
  request(): void {
    if (this.stopped || !this.o.up.connected) return;
    if (this.inflight) {
      this.again = true;
      return;
    }
    this.again = false;
    const tid = randomUUID();
    const timer = setTimeout(() => {
      if (this.inflight?.tid !== tid) return;
      this.inflight = null;
      if (this.o.gatewayReachable()) this.request();
    }, this.o.ackTimeoutMs * 2);
    timer.unref?.();
    this.inflight = { tid, timer };
    // features: this device takes second-embedding templates (a gateway sends them only when asked).
    void this.o.up.send('sync', { tid, cursor: this.o.state.current.cursor, ...(this.snapshot ? { snapshot: this.snapshot } : {}), features: [SECOND_TEMPLATES_FEATURE] });
  }

  /** After a reconnect or the gateway coming back: whatever was asked is asked again. */
  restart(): void {
    this.clear();
    this.request();
  }

  onNotify(head: number): void {
    const cursor = this.o.state.current.cursor;
    if (cursor === null || head > cursor) this.request();
  }

  /** Forget the cursor and ask for a snapshot. */
  async resync(): Promise<void> {
    this.snapshot = undefined;
    await this.o.state.update({ cursor: null });
    this.restart();
  }

  /** Returns the summary when the page was applied, null when ignored or refused. */
  async onChanges(body: Changes): Promise<ApplySummary | null> {
    const mine = this.inflight !== null && body.tid === this.inflight.tid;
    if (mine) this.clear();
    const cursor = this.o.state.current.cursor;
    if (body.from !== cursor) {
      log.info('ignoring a change page that does not start at the local cursor', { from: body.from, cursor, to: body.to });
      if (mine) this.request();
      return null;
    }
    let summary: ApplySummary;
    try {
      summary = await this.o.apply(body);
    } catch (err) {
      if (err instanceof ChangesRefused) this.o.onRefused(err.message);
      else {
        // A local failure (disk): ask again later rather than stall the rest of a snapshot.
        log.error('register changes could not be applied; asking again', { error: (err as Error).message, inMs: this.o.ackTimeoutMs * 2 });
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.request(), this.o.ackTimeoutMs * 2);
        this.retry.unref?.();
      }
      return null;
    }
    log.info('register changes applied', { to: summary.to, upserted: summary.upserted.length, removed: summary.removed.length, more: body.more });
    // The last page of a snapshot is confirmed with one more request carrying its id.
    const closeSnapshot = !!body.snapshot && !body.more;
    this.snapshot = body.snapshot;
    if (body.more || this.again || closeSnapshot) this.request();
    return summary;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.clear();
  }

  private clear(): void {
    if (this.inflight) clearTimeout(this.inflight.timer);
    this.inflight = null;
  }
}
