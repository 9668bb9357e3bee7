import type { Clock } from './clock.ts';
import type { Level } from './types.ts';

/**
 * Stable-level debounce: a raw edge (re)starts a quiet timer; when the line has been quiet for
 * `ms`, the current raw level is reported if it differs from the last reported one. A bouncing
 * contact therefore yields one event, and a glitch that returns to the old level yields none.
 */
export class Debouncer {
  private raw: Level;
  private stable: Level;
  private timer: unknown;

  constructor(
    initial: Level,
    private readonly ms: number,
    private readonly clock: Clock,
    private readonly emit: (level: Level, ts: number) => void,
  ) {
    this.raw = initial;
    this.stable = initial;
  }

  get level(): Level {
    return this.stable;
  }

  input(level: Level): void {
    this.raw = level;
    if (this.ms <= 0) return this.settle();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.settle();
    }, this.ms);
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(): void {
    if (this.raw === this.stable) return;
    this.stable = this.raw;
    this.emit(this.stable, this.clock.now());
  }
}
