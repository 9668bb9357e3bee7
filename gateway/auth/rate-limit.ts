/**
 * Sliding-window failure counter for logins, keyed by username and by client address. Kept in
 * memory: a restart clears it, which costs an attacker a gateway restart per few guesses.
 */
export interface FailureLimiter {
  /** Milliseconds until `key` may try again, or 0 when it is not limited. */
  retryAfterMs(key: string): number;
  /** Records a failure; returns its timestamp (for refund). */
  fail(key: string): number;
  /** Takes back one failure recorded at `at` (an attempt charged up front that then succeeded). */
  refund(key: string, at: number): void;
  clear(key: string): void;
}

export function createFailureLimiter(maxFailures: number, windowMs: number, now: () => number, maxKeys = 10_000): FailureLimiter {
  const failures = new Map<string, number[]>();

  const recent = (key: string): number[] => {
    const list = failures.get(key);
    if (!list) return [];
    const cutoff = now() - windowMs;
    while (list.length && list[0] <= cutoff) list.shift();
    if (!list.length) failures.delete(key);
    return list;
  };

  const sweep = () => {
    for (const key of [...failures.keys()]) recent(key);
    // Still too many (a flood of distinct names): drop the oldest keys rather than grow without bound.
    for (const key of failures.keys()) {
      if (failures.size <= maxKeys) break;
      failures.delete(key);
    }
  };

  return {
    retryAfterMs(key) {
      const list = recent(key);
      if (list.length < maxFailures) return 0;
      // Allowed again once enough of the window's failures have aged out.
      return Math.max(1, list[list.length - maxFailures] + windowMs - now());
    },
    fail(key) {
      const list = recent(key);
      const t = now();
      list.push(t);
      failures.set(key, list);
      if (failures.size > maxKeys) sweep();
      return t;
    },
    refund(key, at) {
      const list = failures.get(key);
      const i = list ? list.lastIndexOf(at) : -1;
      if (i < 0) return;
      list!.splice(i, 1);
      if (!list!.length) failures.delete(key);
    },
    clear(key) {
      failures.delete(key);
    },
  };
}
