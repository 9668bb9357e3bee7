/**
 * A refused gateway message leaves three traces: a warning line, a metric, and a `security`
 * audit event. Someone flooding the device's down topics must not fill its disk, so audit
 * events are limited per minute; the rest are counted, and the count travels with the next
 * event that is written.
 */
import { createLogger } from '../../core/log/logger.ts';
import type { SyncRejectReason } from './verify.ts';

const log = createLogger('sync');

export interface Rejection {
  reason: SyncRejectReason;
  topic: string;
  kind: string | null;
  message: string;
}

export interface SecurityRecorderDeps {
  audit: (kind: string, body: Record<string, unknown>) => void;
  onReject?: (r: Rejection) => void;
  now: () => number;
  /** Audit events per minute (default 10). */
  perMinute?: number;
}

export class SecurityRecorder {
  readonly counts: Record<string, number> = {};
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;
  private lastLogAt = -Infinity;
  private logSuppressed = 0;

  constructor(private readonly deps: SecurityRecorderDeps) {}

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  record(r: Rejection): void {
    this.counts[r.reason] = (this.counts[r.reason] ?? 0) + 1;
    this.deps.onReject?.(r);
    const now = this.deps.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    const limit = this.deps.perMinute ?? 10;
    // Log lines are limited too (a few per second), with the number left out.
    if (now - this.lastLogAt >= 200 || this.inWindow < limit) {
      log.warn('gateway message refused', { reason: r.reason, topic: r.topic, kind: r.kind, message: r.message, ...(this.logSuppressed ? { notLogged: this.logSuppressed } : {}) });
      this.lastLogAt = now;
      this.logSuppressed = 0;
    } else this.logSuppressed++;
    if (this.inWindow >= limit) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    const body: Record<string, unknown> = { reason: r.reason, topic: r.topic, kind: r.kind, message: r.message.slice(0, 500) };
    if (this.suppressed) body.suppressed = this.suppressed;
    try {
      this.deps.audit('security', body);
      this.suppressed = 0;
    } catch (err) {
      log.error('security event could not be recorded', { error: (err as Error).message });
    }
  }
}
