/**
 * Audit outbox -> gateway. One batch in flight at a time, oldest first; only the gateway's
 * acknowledgement deletes events (the publish never does), and a batch without an answer
 * within ackTimeoutMs is sent again (the gateway drops duplicates by event id). An ack can only
 * remove events that were actually sent, whatever number it names.
 */
import { createLogger } from '../../core/log/logger.ts';
import type { WireEvent } from '../../core/sync/contract.ts';
import type { Outbox } from '../store/outbox.ts';
import type { UpLink } from './uplink.ts';

const log = createLogger('sync');

export interface DrainOptions {
  outbox: Pick<Outbox, 'peek' | 'ack' | 'count'>;
  uplink: Pick<UpLink, 'send' | 'connected'>;
  batchSize: number;
  ackTimeoutMs: number;
  /** False while the gateway is known to be offline: nobody would answer. */
  gatewayReachable: () => boolean;
  now: () => number;
}

interface InFlight {
  first: number;
  last: number;
  sentAt: number;
  events: WireEvent[];
}

export class AuditDrain {
  private inflight: InFlight | null = null;
  private timer: NodeJS.Timeout | undefined;
  private maxSent = 0;
  private stopped = false;
  /** Batches sent again after a timeout (for status and tests). */
  resends = 0;
  lastAckAt: number | null = null;

  constructor(private readonly o: DrainOptions) {}

  get busy(): boolean {
    return this.inflight !== null;
  }

  /** Send the next batch unless one is waiting for its ack. */
  kick(): void {
    if (this.stopped || this.inflight || !this.o.uplink.connected || !this.o.gatewayReachable()) return;
    this.send(false);
  }

  /** After a reconnect or the gateway coming back: whatever was in flight is sent again. */
  restart(): void {
    this.clearTimer();
    this.inflight = null;
    this.kick();
  }

  onAck(upTo: number): number {
    // Never delete what has not left the device (a gateway bug must not lose events).
    const limit = Math.min(upTo, this.maxSent);
    const removed = limit > 0 ? this.o.outbox.ack(limit) : 0;
    this.lastAckAt = this.o.now();
    if (upTo > this.maxSent) log.warn('gateway acknowledged events that were never sent; ignored beyond the last sent', { upTo, lastSent: this.maxSent });
    if (this.inflight && limit >= this.inflight.first) {
      this.clearTimer();
      this.inflight = null;
      this.kick();
    }
    return removed;
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  /** Never throws: it runs from timers, broker events and the audit path of the door. */
  private send(resend: boolean): void {
    try {
      this.trySend(resend);
    } catch (err) {
      log.error('audit batch could not be sent; retrying after the ack timeout', { error: (err as Error).message });
      this.clearTimer();
      this.timer = setTimeout(() => this.onTimeout(), this.o.ackTimeoutMs);
      this.timer.unref?.();
    }
  }

  private trySend(resend: boolean): void {
    let events = resend && this.inflight ? this.inflight.events : null;
    if (!events) {
      const rows = this.o.outbox.peek(this.o.batchSize);
      if (!rows.length) {
        this.inflight = null;
        return;
      }
      events = rows.map((e) => ({ seq: e.seq, id: e.id, ts: e.ts, kind: e.kind, body: e.body }));
    }
    const last = events[events.length - 1].seq;
    this.maxSent = Math.max(this.maxSent, last);
    this.inflight = { first: events[0].seq, last, sentAt: this.o.now(), events };
    if (resend) this.resends++;
    void this.o.uplink.send('audit', { events });
    this.clearTimer();
    this.timer = setTimeout(() => this.onTimeout(), this.o.ackTimeoutMs);
    this.timer.unref?.();
  }

  private onTimeout(): void {
    this.timer = undefined;
    if (this.stopped || !this.inflight) return;
    if (!this.o.uplink.connected || !this.o.gatewayReachable()) {
      // Sent again by restart() once the broker or the gateway is back.
      this.inflight = null;
      return;
    }
    log.info('no acknowledgement for the audit batch; sending it again', { first: this.inflight.first, last: this.inflight.last, count: this.inflight.events.length });
    this.send(true);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
