/**
 * The audit outbox with a deep backlog (a device offline for weeks): fill it to `n` events, then
 * time what the daemon and the sync do at that depth: a durable append, peek of the oldest
 * batch, ack of that batch, and reopening the database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, round2 } from '../eval/stats.ts';
import { Outbox } from '../../device/store/outbox.ts';
import { openDatabase } from '../../device/store/sqlite.ts';

export interface OutboxBench {
  events: number;
  fill_s: number;
  append_p50_ms: number;
  peek100_ms: number;
  ack100_ms: number;
  reopen_ms: number;
}

export function benchOutbox(n = 1_000_000): OutboxBench {
  const dir = mkdtempSync(join(tmpdir(), 'portier-outbox-bench-'));
  const file = join(dir, 'portier.db');
  try {
    let db = openDatabase(file, { onCorrupt: 'refuse', integrityCheck: false });
    let outbox = new Outbox(db);
    const body = { type: 'decision', granted: false, reason: 'unknown', door: 'main', score: 0.21, live: 0.5 };
    const t0 = performance.now();
    // Backlog filled in batches of 10k per transaction; the daemon itself commits every event.
    const batch = db.transaction((k: number) => {
      for (let i = 0; i < k; i++) outbox.append({ kind: 'decision', body });
    });
    for (let done = 0; done < n; done += 10_000) batch(Math.min(10_000, n - done));
    const fill = (performance.now() - t0) / 1000;
    const appends: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      outbox.append({ kind: 'decision', body });
      appends.push(performance.now() - t);
    }
    let t = performance.now();
    const oldest = outbox.peek(100);
    const peek = performance.now() - t;
    t = performance.now();
    outbox.ack(oldest[oldest.length - 1].seq);
    const ack = performance.now() - t;
    db.close();
    t = performance.now();
    db = openDatabase(file, { onCorrupt: 'refuse', integrityCheck: true });
    outbox = new Outbox(db);
    const reopen = performance.now() - t;
    const events = outbox.count();
    db.close();
    return { events, fill_s: round2(fill), append_p50_ms: round2(percentile(appends, 50)), peek100_ms: round2(peek), ack100_ms: round2(ack), reopen_ms: round2(reopen) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
