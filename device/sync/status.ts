/**
 * Device status up (retained) and the outbox cap watch. The outbox is never trimmed: near the
 * cap the device raises a metric and a /health warning; at the cap it keeps recording and says
 * so loudly, because the door's audit trail is worth more than the disk warning.
 */
import { createLogger } from '../../core/log/logger.ts';
import { bodySchemas, type UpBody } from '../../core/sync/contract.ts';

const log = createLogger('sync');

/** What the daemon supplies for the status message; sync adds the outbox cap, cursor and rejections. */
export type StatusFields = Omit<UpBody<'status'>, 'outboxCap' | 'cursor' | 'securityRejections'>;

export function statusBody(fields: StatusFields, extra: { outboxCap: number; cursor: number | null; securityRejections: number }): UpBody<'status'> | { error: string } {
  const r = bodySchemas.up.status.safeParse({ ...fields, ...extra });
  if (r.success) return r.data;
  return { error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

export interface CapWatchOptions {
  cap: number;
  warnFraction: number;
  onNearCap?: (near: boolean) => void;
  now: () => number;
}

export class OutboxCapWatch {
  near = false;
  full = false;
  private lastFullLog = -Infinity;

  constructor(private readonly o: CapWatchOptions) {}

  check(depth: number): void {
    const near = depth >= this.o.cap * this.o.warnFraction;
    if (near !== this.near) {
      this.near = near;
      this.o.onNearCap?.(near);
      if (near) log.warn('audit outbox is nearing its cap: the gateway has not acknowledged events for a while', { depth, cap: this.o.cap });
      else log.info('audit outbox back below its warning level', { depth, cap: this.o.cap });
    }
    const full = depth >= this.o.cap;
    const now = this.o.now();
    if (full && (!this.full || now - this.lastFullLog >= 60_000)) {
      this.lastFullLog = now;
      log.error('audit outbox is past its cap; still recording every event (nothing is dropped) until the gateway acknowledges them', { depth, cap: this.o.cap });
    }
    this.full = full;
  }
}
