/**
 * Audit records the disk refused (full, read-only, I/O error) wait here in memory and are
 * retried, oldest first, so an event that already happened (the exit button opened the door) is
 * not lost to a bad SD card. Bounded: past `max` the oldest are dropped and counted, loudly.
 */
import { createLogger } from '../../core/log/logger.ts';

const log = createLogger('store');

export interface BacklogEntry {
  kind: string;
  body: Record<string, unknown>;
  id?: string;
}

export class AuditBacklog {
  private readonly items: BacklogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Records lost because the backlog was full. */
  dropped = 0;

  constructor(
    private readonly append: (e: BacklogEntry) => void,
    private readonly o: { retryMs: number; max: number } = { retryMs: 5000, max: 10_000 },
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Write now, or keep for a retry when the disk refuses (or older records are still waiting). */
  record(e: BacklogEntry): 'written' | 'kept' {
    if (this.items.length === 0) {
      try {
        this.append(e);
        return 'written';
      } catch (err) {
        log.error('audit record refused by the disk; kept in memory and retried', { kind: e.kind, error: (err as Error).message });
      }
    }
    this.items.push(e);
    if (this.items.length > this.o.max) {
      this.items.shift();
      this.dropped++;
      log.error('audit backlog full: the oldest record kept in memory was dropped', { dropped: this.dropped });
    }
    this.schedule();
    return 'kept';
  }

  /** Write what waits, in order, until the disk refuses again. */
  flush(): void {
    while (this.items.length) {
      try {
        this.append(this.items[0]);
      } catch {
        this.schedule();
        return;
      }
      this.items.shift();
    }
    log.info('audit backlog written to disk');
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length) log.error('stopping with audit records the disk refused; they are lost', { count: this.items.length });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.o.retryMs);
    this.timer.unref?.();
  }
}
