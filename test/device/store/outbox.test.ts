import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addLogSink, type LogRecord } from '../../../core/log/logger.ts';
import { Outbox, StoreFullError } from '../../../device/store/outbox.ts';
import type { SalvageReport } from '../../../device/store/salvage.ts';
import { openDatabase, StoreCorruptError } from '../../../device/store/sqlite.ts';

let dir: string;
let file: string;
const openOutbox = () => {
  const db = openDatabase(file, { onCorrupt: 'quarantine', integrityCheck: true });
  return { db, outbox: new Outbox(db) };
};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-outbox-'));
  file = join(dir, 'portier.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('audit outbox', () => {
  it('keeps appended events across a reopen, oldest first, with their ids and bodies', () => {
    let { db, outbox } = openOutbox();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    const a = outbox.append({ kind: 'decision', body: { person: 'p1', granted: true }, ts: 1000 });
    const b = outbox.append({ kind: 'door', body: { open: true } });
    expect(b).toBeGreaterThan(a);
    const before = outbox.peek(10);
    db.close();
    ({ db, outbox } = openOutbox());
    expect(outbox.count()).toBe(2);
    const after = outbox.peek(10);
    expect(after).toEqual(before);
    expect(after[0]).toMatchObject({ seq: a, kind: 'decision', ts: 1000, body: { person: 'p1', granted: true } });
    db.close();
  });

  it('ack deletes up to a seq or exactly the listed seqs; seqs are never reused', () => {
    const { db, outbox } = openOutbox();
    const seqs = Array.from({ length: 10 }, (_, i) => outbox.append({ kind: 'e', body: i }));
    expect(outbox.peek(3).map((e) => e.seq)).toEqual(seqs.slice(0, 3));
    expect(outbox.ack(seqs[2])).toBe(3);
    expect(outbox.ack([seqs[5], seqs[7], 999_999])).toBe(2);
    expect(outbox.peek(100).map((e) => e.body)).toEqual([3, 4, 6, 8, 9]);
    expect(outbox.count()).toBe(5);
    expect(outbox.ack(seqs[9])).toBe(5);
    expect(outbox.count()).toBe(0);
    const next = outbox.append({ kind: 'e', body: 'later' });
    expect(next).toBeGreaterThan(seqs[9]);
    db.close();
  });

  it('gives every event a unique uuid and refuses a duplicate id without losing anything', () => {
    const { db, outbox } = openOutbox();
    const insertMany = db.transaction(() => {
      for (let i = 0; i < 2000; i++) outbox.append({ kind: 'e', body: i });
    });
    insertMany();
    const ids = outbox.peek(5000).map((e) => e.id);
    expect(new Set(ids).size).toBe(2000);
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(() => outbox.append({ kind: 'e', body: 'dup', id: ids[0] })).toThrow(/UNIQUE/);
    expect(outbox.count()).toBe(2000);
    expect(() => outbox.append({ kind: '', body: 1 })).toThrow(/kind/);
    db.close();
  });

  it('a full disk surfaces StoreFullError and keeps every event already stored', () => {
    const { db, outbox } = openOutbox();
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 8}`);
    const stored: number[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 10_000; i++) stored.push(outbox.append({ kind: 'e', body: { i, pad: 'y'.repeat(500) } }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreFullError);
    expect((error as Error).message).toMatch(/storage is full/);
    expect(stored.length).toBeGreaterThan(5);
    expect(outbox.count()).toBe(stored.length);
    expect(outbox.peek(100_000).map((e) => e.seq)).toEqual(stored);
    // Acknowledging frees pages; appends work again.
    outbox.ack(stored[stored.length - 1]);
    expect(() => outbox.append({ kind: 'e', body: 'after' })).not.toThrow();
    db.close();
  });

  it('every event reported appended by a SIGKILLed child is present once after reopen', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./outbox-child.ts', import.meta.url)), file], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reported: number[] = [];
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child produced too little: ${stderr}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) reported.push(Number(l));
        if (reported.length >= 300 && !child.killed) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect(await exited).toBe('SIGKILL');
    const { db, outbox } = openOutbox();
    const events = outbox.peek(10_000_000);
    const seqs = new Set(events.map((e) => e.seq));
    for (const s of reported) expect(seqs.has(s)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(seqs.size).toBe(events.length);
    expect(outbox.count()).toBe(events.length);
    db.close();
  });
});

describe('corrupt database at open', () => {
  const garbage = () => writeFileSync(file, Buffer.alloc(8192, 0x5a));

  it('moves the corrupt file aside with a logged error and starts fresh', () => {
    garbage();
    const logs: LogRecord[] = [];
    const off = addLogSink((r) => logs.push(r));
    try {
      const db = openDatabase(file, { onCorrupt: 'quarantine', integrityCheck: true, now: () => 1234 });
      expect(new Outbox(db).count()).toBe(0);
      db.close();
    } finally {
      off();
    }
    expect(readdirSync(dir)).toContain('portier.db.corrupt-1234');
    expect(logs.some((r) => r.level === 'error' && /corrupt/.test(r.msg) && r.fields?.movedTo)).toBe(true);
  });

  it('salvages a file with damaged pages: undamaged rows kept in order, the lost ones counted', () => {
    let { db, outbox } = openOutbox();
    db.transaction(() => {
      for (let i = 0; i < 500; i++) outbox.append({ kind: 'e', id: `ev-${i}`, body: { i, pad: 'z'.repeat(300) } });
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = readFileSync(file);
    bytes.fill(0x77, 4096 * 8, 4096 * 11); // scribble over three leaf pages in the middle, header intact
    writeFileSync(file, bytes);
    const reports: SalvageReport[] = [];
    db = openDatabase(file, { onCorrupt: 'salvage', integrityCheck: true, onSalvage: (r) => reports.push(r) });
    outbox = new Outbox(db);
    const kept = outbox.peek(1000);
    db.close();
    expect(reports).toHaveLength(1);
    const lost = reports[0].lost.outbox;
    expect(lost).toBeGreaterThan(0);
    // Every row is either recovered or counted as lost; the recovered ones are intact and in order.
    expect(kept.length + lost).toBe(500);
    expect(kept.length).toBeGreaterThan(400);
    for (const e of kept) expect(e.id).toBe(`ev-${(e.body as { i: number }).i}`);
    expect(kept.map((e) => e.seq)).toEqual([...kept.map((e) => e.seq)].sort((a, b) => a - b));
    expect(kept.at(-1)!.id).toBe('ev-499');
    expect(readdirSync(dir).some((f) => f.startsWith('portier.db.corrupt-'))).toBe(true);
  });

  it('quarantine (starting empty) is still available when asked for', () => {
    let { db, outbox } = openOutbox();
    for (let i = 0; i < 10; i++) outbox.append({ kind: 'e', body: { i } });
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = readFileSync(file);
    bytes.fill(0x77, 4096, 4096 * 2);
    writeFileSync(file, bytes);
    db = openDatabase(file, { onCorrupt: 'quarantine', integrityCheck: true });
    ({ outbox } = { outbox: new Outbox(db) });
    expect(outbox.count()).toBe(0);
    db.close();
  });

  it('refuses with StoreCorruptError when configured, leaving the file in place', () => {
    garbage();
    expect(() => openDatabase(file, { onCorrupt: 'refuse', integrityCheck: true })).toThrow(StoreCorruptError);
    expect(readdirSync(dir)).toEqual(['portier.db']);
  });
});
