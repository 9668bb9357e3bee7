/**
 * Salvage a corrupt database: read every row that can still be read from the damaged file into
 * the fresh one, table by table, in rowid windows; a window that fails is read row by row, and a
 * row whose page is damaged is counted as lost. Unsynced audit events and enrolled people thus
 * survive a damaged page instead of vanishing with the whole file.
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
  /** Rows copied into the fresh database, per table. */
  recovered: Record<string, number>;
  /** Rows whose pages could not be read, per table (a lower bound where the rowid range itself was unreadable). */
  lost: Record<string, number>;
  /** Tables that could not be read at all. */
  unreadable: string[];
}

const WINDOW = 256;

export function salvageInto(corruptFile: string, fresh: Database.Database): SalvageReport {
  const report: SalvageReport = { recovered: {}, lost: {}, unreadable: [] };
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
      let max: number;
      try {
        max = Number((src.prepare(`SELECT max(rowid) AS m FROM ${table}`).get() as { m: number | null }).m ?? 0);
      } catch {
        // The table's root or its rightmost pages are gone: probe upwards until reads stop answering.
        max = probeMax(src, table);
        if (max === 0) {
          report.unreadable.push(table);
          continue;
        }
      }
      // The integer keys (outbox seq, template ids) are copied as they were: same order, no duplicates.
      const insert = fresh.prepare(`INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
      const window = src.prepare(`SELECT rowid AS r, ${cols.join(', ')} FROM ${table} WHERE rowid BETWEEN ? AND ? ORDER BY rowid`);
      const one = src.prepare(`SELECT rowid AS r, ${cols.join(', ')} FROM ${table} WHERE rowid = ?`);
      const put = fresh.transaction((rows: Record<string, unknown>[]) => {
        for (const row of rows) insert.run(...cols.map((c) => row[c]));
      });
      for (let lo = 1; lo <= max; lo += WINDOW) {
        const hi = Math.min(max, lo + WINDOW - 1);
        let rows: Record<string, unknown>[];
        try {
          rows = window.all(lo, hi) as Record<string, unknown>[];
        } catch {
          rows = [];
          for (let r = lo; r <= hi; r++) {
            try {
              const row = one.get(r) as Record<string, unknown> | undefined;
              if (row) rows.push(row);
            } catch {
              report.lost[table]++;
            }
          }
        }
        put(rows);
        report.recovered[table] += rows.length;
      }
    }
  } finally {
    src.close();
  }
  return report;
}

function probeMax(src: Database.Database, table: string): number {
  let last = 0;
  try {
    const stmt = src.prepare(`SELECT rowid AS r FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT 1`);
    for (;;) {
      const row = stmt.get(last) as { r: number } | undefined;
      if (!row) return last;
      last = row.r;
    }
  } catch {
    return last;
  }
}
