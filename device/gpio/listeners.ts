import type { Level } from './types.ts';

type Fn = (level: Level, ts: number) => void;

/** A tiny listener set; a throwing listener is isolated from the others. */
export class Listeners {
  private fns = new Set<Fn>();
  add(fn: Fn): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  emit(level: Level, ts: number, onError: (err: unknown) => void): void {
    for (const fn of [...this.fns]) {
      try {
        fn(level, ts);
      } catch (err) {
        onError(err);
      }
    }
  }
  clear(): void {
    this.fns.clear();
  }
}
