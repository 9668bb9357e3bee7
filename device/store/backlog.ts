/**
 * Door records go through here: written just after the event, off the caller's path, and when
 * the disk refuses (full, read-only, I/O error) kept in memory and retried, oldest first, so an
 * event that already happened (the exit button opened the door) is neither delayed by nor lost to
 * a bad SD card. Bounded: past `max` the oldest are dropped and counted, loudly.
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
  private immediate: NodeJS.Immediate | undefined;
  /** The disk refused the last write; cleared once everything waiting is written. */
  private failing = false;
  /** Records lost because the backlog was full. */
  dropped = 0;

  constructor(
    private readonly append: (e: BacklogEntry) => void,
    private readonly o: { retryMs: number; max: number } = { retryMs: 5000, max: 10_000 },
  ) {}

  get size(): number {
    return this.items.length;
  }

  /**
   * Queue a record; it is written on the next turn of the event loop, never inside the caller.
   * The door emits its events before it moves the relay (the exit button's `rex`): a disk that
   * blocks (a dying SD card stalls rather than fails) must not hold the way out.
   */
  record(e: BacklogEntry): void {
    this.items.push(e);
    if (this.items.length > this.o.max) {
      this.items.shift();
      this.dropped++;
      log.error('audit backlog full: the oldest record kept in memory was dropped', { dropped: this.dropped });
    }
    if (!this.immediate && !this.timer) this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.flush();
    });
  }

  /** Write what waits, in order, until the disk refuses; then retry after retryMs. */
  flush(): void {
    const hadFailed = this.failing;
    while (this.items.length) {
      try {
        this.append(this.items[0]);
      } catch (err) {
        if (!this.failing) log.error('audit record refused by the disk; kept in memory and retried', { kind: this.items[0].kind, error: (err as Error).message });
        this.failing = true;
        this.schedule();
        return;
      }
      this.items.shift();
    }
    this.failing = false;
    if (hadFailed) log.info('audit backlog written to disk');
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    // A clean stop writes what it can: the door's last events (relocked) are on their way out.
    this.flush();
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
