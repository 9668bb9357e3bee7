/**
 * Salvage a corrupt database: read every row that can still be read from the damaged file into
 * a fresh one, table by table. Unsynced audit events and enrolled people thus survive a damaged
 * page instead of vanishing with the whole file.
 *
 * A table is a b-tree keyed by rowid. It is read in rowid order until a read fails; the first
 * rowid past the damage that a seek can reach again is then found by probing (doubling steps,
 * then bisection), and reading resumes there. The rowids skipped are the key range of the
 * unreadable pages, which after deletions (acked outbox events) covers many ids that no longer
 * exist: so what was lost is counted from an index of the table (its entries carry the rowids,
 * and are read without the table's pages), and each rowid an index lists in a skipped range is
 * tried once more on its own. Without a readable index only a bound can be given ("at most N",
 * with the reason in `notes`).
 */
import Database from 'better-sqlite3';

/** Tables in dependency order, with their columns (rowid-keyed in every case). */
const TABLES: Record<string, string[]> = {
  persons: ['id', 'name', 'active', 'valid_from', 'valid_until', 'groups', 'schedules', 'updated_at'],
  templates: ['id', 'person_id', 'nonce', 'tag', 'data', 'created_at'],
  face_images: ['id', 'person_id', 'nonce', 'tag', 'data', 'created_at'],
  outbox: ['seq', 'id', 'ts', 'kind', 'body'],
};

export interface SalvageReport {
  /** Rows inserted into the fresh database, per table. */
  recovered: Record<string, number>;
  /**
   * Rows lost on unreadable pages, per table: exact where an index listed them; otherwise the
   * most there can have been (deleted row ids included), or, where the damage runs to the end of
   * the table, the part that can be bounded; either is said in `notes`.
   */
  lost: Record<string, number>;
  /** Per table, why its `lost` is a bound rather than a count. */
  notes: Record<string, string>;
  /** Tables none of whose rows could be read. */
  unreadable: string[];
}

type Row = Record<string, unknown> & { r: number };
/** Unread rowid range, inclusive; `hi` is Infinity when it runs to the end of the table. */
type Gap = { lo: number; hi: number };

const BATCH = 256;
/** SQLite assigns these tables' rowids from 1 (nothing here inserts its own). */
const FIRST_ROWID = 1;

export function salvageInto(corruptFile: string, fresh: Database.Database): SalvageReport {
  const report: SalvageReport = { recovered: {}, lost: {}, notes: {}, unreadable: [] };
  let src: Database.Database;
  try {
    src = new Database(corruptFile, { readonly: true, fileMustExist: true });
  } catch {
    report.unreadable = Object.keys(TABLES);
    return report;
  }
  try {
    for (const [table, cols] of Object.entries(TABLES)) {
      report.recovered[table] = 0;
      report.lost[table] = 0;
      salvageTable(src, fresh, table, cols, report);
    }
  } finally {
    src.close();
  }
  return report;
}

function salvageTable(src: Database.Database, fresh: Database.Database, table: string, cols: string[], report: SalvageReport): void {
  const select = `SELECT rowid AS r, ${cols.join(', ')} FROM ${table}`;
  let from: Database.Statement, one: Database.Statement, probe: Database.Statement;
  try {
    from = src.prepare(`${select} WHERE rowid >= ? ORDER BY rowid`);
    one = src.prepare(`${select} WHERE rowid = ?`);
    probe = src.prepare(`SELECT rowid FROM ${table} WHERE rowid = ?`);
  } catch {
    // The schema itself cannot be read (page 1 damaged, or not a database at all).
    report.unreadable.push(table);
    return;
  }
  // The integer keys (outbox seq, template ids) are copied as they were: same order, no duplicates.
  const insert = fresh.prepare(`INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const put = fresh.transaction((rows: Row[]) => rows.reduce((n, row) => n + insert.run(...cols.map((c) => row[c])).changes, 0));
  const batch: Row[] = [];
  const flush = () => {
    if (batch.length) report.recovered[table] += put(batch.splice(0));
  };
  /** A seek to this rowid reaches a readable leaf (whether or not the row exists). */
  const reachable = (r: number) => {
    try {
      probe.get(r);
      return true;
    } catch {
      return false;
    }
  };

  const gaps: Gap[] = [];
  let next = FIRST_ROWID;
  for (;;) {
    let last = next - 1;
    let failed = false;
    try {
      for (const row of from.iterate(next) as IterableIterator<Row>) {
        batch.push(row);
        last = row.r;
        if (batch.length >= BATCH) flush();
      }
    } catch {
      failed = true;
    }
    flush();
    if (!failed) break;
    // Every row up to `last` was read; the page after it is not readable. Strictly past `next`,
    // so a seek that reaches a leaf whose following page is the damaged one cannot loop.
    const resume = nextReachable(reachable, Math.max(last + 1, next + 1));
    gaps.push({ lo: last + 1, hi: resume === null ? Infinity : resume - 1 });
    if (resume === null) break;
    next = resume;
  }
  if (!gaps.length) return;
  const lost = countLost(src, table, gaps, one);
  batch.push(...lost.rescued);
  flush();
  report.lost[table] = lost.count;
  if (lost.note) report.notes[table] = lost.note;
  if (report.recovered[table] === 0) report.unreadable.push(table);
}

/**
 * The first rowid >= from that a seek can reach, or null when none up to the largest safe
 * integer. Doubling steps, then bisection between the last unreachable and the first reachable.
 */
function nextReachable(reachable: (r: number) => boolean, from: number): number | null {
  if (reachable(from)) return from;
  let bad = from;
  for (let step = 1; ; step *= 2) {
    const r = Math.min(bad + step, Number.MAX_SAFE_INTEGER);
    if (reachable(r)) {
      let lo = bad;
      let hi = r;
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (reachable(mid)) hi = mid;
        else lo = mid;
      }
      return hi;
    }
    if (r === Number.MAX_SAFE_INTEGER) return null;
    bad = r;
  }
}

/**
 * Lost rows in the skipped ranges: the rowids an index of the table lists there, each read once
 * more on its own (a row on a readable page the probing stepped over is recovered); without a
 * readable index, the width of the ranges as a bound.
 */
function countLost(src: Database.Database, table: string, gaps: Gap[], one: Database.Statement): { count: number; rescued: Row[]; note?: string } {
  const inGap = (r: number) => gaps.some((g) => r >= g.lo && r <= g.hi);
  const listed = indexedRowids(src, table, inGap);
  if (listed) {
    const rescued: Row[] = [];
    let count = 0;
    for (const r of listed) {
      try {
        const row = one.get(r) as Row | undefined;
        // An index entry without its row: the index is stale there, nothing to count.
        if (row) rescued.push(row);
      } catch {
        count++;
      }
    }
    return { count, rescued };
  }
  const ranges = gaps.map((g) => (g.hi === Infinity ? `${g.lo}–end` : `${g.lo}–${g.hi}`)).join(', ');
  const bounded = gaps.filter((g) => g.hi !== Infinity);
  const count = bounded.reduce((n, g) => n + g.hi - g.lo + 1, 0);
  const note =
    bounded.length === gaps.length
      ? `at most ${count}: row ids ${ranges} fall on unreadable pages and no readable index says which of them existed (ids of deleted rows included)`
      : `unknown: row ids ${ranges} fall on unreadable pages (to the end of the table) and no readable index says which of them existed`;
  return { count, rescued: [], note };
}

/** Rowids (ascending) that some index of the table lists and `keep` accepts; null when no index can be read whole. */
function indexedRowids(src: Database.Database, table: string, keep: (r: number) => boolean): number[] | null {
  let indexes: string[];
  try {
    indexes = (src.pragma(`index_list(${table})`) as { name: string; partial: number }[]).filter((i) => !i.partial).map((i) => i.name);
  } catch {
    return null;
  }
  for (const name of indexes) {
    try {
      // A covering scan: only the index's pages are read, not the table's.
      const stmt = src.prepare(`SELECT rowid AS r FROM ${table} INDEXED BY "${name.replace(/"/g, '""')}"`);
      const out: number[] = [];
      for (const { r } of stmt.iterate() as IterableIterator<{ r: number }>) if (keep(r)) out.push(r);
      return out.sort((a, b) => a - b);
    } catch {
      // That index is damaged too; try the next one.
    }
  }
  return null;
}
