/**
 * Salvage of a damaged database: lost rows counted from the damaged pages only (not from row ids
 * acked long ago), reading on past every damaged stretch, and a salvage killed at any point
 * never leaving a half-filled database under the real name.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../../device/store/outbox.ts';
import type { SalvageReport } from '../../../device/store/salvage.ts';
import { openDatabase } from '../../../device/store/sqlite.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-salvage-'));
  file = join(dir, 'portier.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const PAGE = 4096;
type PageInfo = { path: string; pageno: number; pagetype: string; ncell: number };

/** An outbox of `n` events (ev-1 … ev-n, seq = i), the first `acked` of them acknowledged; its b-tree pages. */
function outboxFile(n: number, acked = 0): { table: PageInfo[]; index: PageInfo[] } {
  const db = openDatabase(file, { onCorrupt: 'refuse', integrityCheck: true });
  const outbox = new Outbox(db);
  db.transaction(() => {
    for (let i = 1; i <= n; i++) outbox.append({ kind: 'e', id: `ev-${i}`, body: { i, pad: 'z'.repeat(100) } });
  })();
  if (acked) outbox.ack(acked);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pages = (name: string) => db.prepare('SELECT path, pageno, pagetype, ncell FROM dbstat WHERE name = ? ORDER BY path').all(name) as PageInfo[];
  const table = pages('outbox');
  const index = pages('sqlite_autoindex_outbox_1');
  db.close();
  return { table, index };
}

function scribble(pagenos: number[]): void {
  const bytes = readFileSync(file);
  for (const p of pagenos) bytes.fill(0x77, (p - 1) * PAGE, p * PAGE);
  writeFileSync(file, bytes);
}

function salvage(): { report: SalvageReport; kept: { seq: number; id: string; body: unknown }[] } {
  const reports: SalvageReport[] = [];
  const db = openDatabase(file, { onCorrupt: 'salvage', integrityCheck: true, onSalvage: (r) => reports.push(r) });
  const kept = new Outbox(db).peek(1_000_000);
  db.close();
  expect(reports).toHaveLength(1);
  return { report: reports[0], kept };
}

const leaves = (pages: PageInfo[]) => pages.filter((p) => p.pagetype === 'leaf');

describe('salvage counts what the damaged pages held', () => {
  it('20k events of which the first 19k were acked, the leaf of the oldest left scribbled: a handful lost, not 19k, and quickly', () => {
    const { table } = outboxFile(20_000, 19_000);
    const first = leaves(table)[0];
    scribble([first.pageno]);
    const t0 = Date.now();
    const { report, kept } = salvage();
    expect(Date.now() - t0).toBeLessThan(2000);
    // Exactly the rows that page held, counted from the outbox's id index.
    expect(report.lost.outbox).toBe(first.ncell);
    expect(report.notes).toEqual({});
    expect(report.recovered.outbox).toBe(kept.length);
    expect(kept.length + report.lost.outbox).toBe(1000);
    expect(kept[0].seq).toBe(19_001 + first.ncell);
    expect(kept.at(-1)!.seq).toBe(20_000);
    for (const e of kept) expect(e.id).toBe(`ev-${e.seq}`);
  });

  it('without a readable index says "at most N" and why', () => {
    const { table, index } = outboxFile(20_000, 19_000);
    scribble([leaves(table)[0].pageno, ...index.map((p) => p.pageno)]);
    const { report, kept } = salvage();
    expect(kept.length).toBe(1000 - leaves(table)[0].ncell);
    expect(report.recovered.outbox).toBe(kept.length);
    expect(report.notes.outbox).toMatch(/^at most \d+: row ids 1–\d+ fall on unreadable pages and no readable index says which of them existed/);
    expect(report.lost.outbox).toBeGreaterThanOrEqual(leaves(table)[0].ncell);
  });

  it('reads on past every damaged stretch, the last leaf included', () => {
    const { table } = outboxFile(2000);
    const l = leaves(table);
    const damaged = [l[5], l[6], l[20], l.at(-1)!];
    scribble(damaged.map((p) => p.pageno));
    const { report, kept } = salvage();
    const held = damaged.reduce((n, p) => n + p.ncell, 0);
    expect(report.lost.outbox).toBe(held);
    expect(kept.length).toBe(2000 - held);
    // Rows between the damaged pages and before the last one were all read.
    // Every row outside the damaged pages was read, those between them and before the last one included.
    const firstSeq = (k: number) => 1 + l.slice(0, k).reduce((n, p) => n + p.ncell, 0);
    const lostSeqs = new Set(damaged.flatMap((p) => Array.from({ length: p.ncell }, (_, j) => firstSeq(l.indexOf(p)) + j)));
    expect(kept.map((e) => e.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1).filter((s) => !lostSeqs.has(s)));
  });
});

describe('a salvage killed part way', () => {
  async function killAt(stage: 'copying' | 'committed'): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./salvage-child.ts', import.meta.url)), file, stage], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child never reached ${stage}: ${out} ${err}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(stage)) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
        if (out.includes('done')) reject(new Error('child finished without blocking'));
      });
    });
    expect(await exited).toBe('SIGKILL');
  }

  it('while copying rows: the corrupt file stays in place and the next start salvages it whole', async () => {
    const { table } = outboxFile(2000);
    const damaged = leaves(table)[40];
    scribble([damaged.pageno]);
    await killAt('copying');
    const { report, kept } = salvage();
    expect(kept.length).toBe(2000 - damaged.ncell);
    expect(report.lost.outbox).toBe(damaged.ncell);
    expect(readdirSync(dir).filter((n) => n.includes('.salvage'))).toEqual([]);
  }, 60_000);

  it('after the copy was complete: the next start puts it in place and reports it', async () => {
    const { table } = outboxFile(2000);
    const damaged = leaves(table)[40];
    scribble([damaged.pageno]);
    await killAt('committed');
    const { report, kept } = salvage();
    expect(kept.length).toBe(2000 - damaged.ncell);
    expect(report).toMatchObject({ recovered: { outbox: 2000 - damaged.ncell }, lost: { outbox: damaged.ncell }, movedTo: expect.stringContaining('portier.db.corrupt-') });
    expect(readdirSync(dir).filter((n) => n.includes('.salvage'))).toEqual([]);
    expect(readdirSync(dir).filter((n) => /\.corrupt-\d+$/.test(n))).toHaveLength(1);
  }, 60_000);
});
