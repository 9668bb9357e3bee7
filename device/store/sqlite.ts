/**
 * Opens the device database with durable settings (WAL, synchronous=FULL) and turns a corrupt
 * file into a salvage (every readable row copied into a fresh file; salvage.ts) instead of a
 * crash loop.
 *
 * The salvage is atomic: rows are copied into <file>.salvage while the corrupt file keeps its
 * name; the copy is fsynced and renamed <file>.salvaged (with its report beside it), and only
 * then does it replace the corrupt file, in one rename. A kill before that point leaves the
 * corrupt file, salvaged again at the next start; a kill after it leaves <file>.salvaged, swapped
 * in at the next start. A half-filled database never sits under the real name.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';
import { createLogger } from '../../core/log/logger.ts';
import { salvageInto, type SalvageReport } from './salvage.ts';

const log = createLogger('store');

export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`database ${file} is corrupt: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'StoreCorruptError';
  }
}

const SCHEMA_VERSION = 3;

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version >= SCHEMA_VERSION) return;
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      ts INTEGER NOT NULL,
      kind TEXT NOT NULL,
      body TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS persons (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      active INTEGER NOT NULL,
      valid_from TEXT,
      valid_until TEXT,
      groups TEXT NOT NULL,
      schedules TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS templates (
      id INTEGER PRIMARY KEY,
      person_id TEXT NOT NULL,
      nonce BLOB NOT NULL,
      tag BLOB NOT NULL,
      data BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS templates_person ON templates(person_id);
  `);
  // v2: enrolment photos, kept only when store.storeFaceImages is on, encrypted like templates.
  db.exec(`
    CREATE TABLE IF NOT EXISTS face_images (
      id INTEGER PRIMARY KEY,
      person_id TEXT NOT NULL,
      nonce BLOB NOT NULL,
      tag BLOB NOT NULL,
      data BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS face_images_person ON face_images(person_id);
  `);
  // v3: the second embedding's template beside the main one, sealed the same way; NULL in older
  // rows (and in templates synced from the gateway), which are matched by the main model alone.
  const cols = (db.prepare('PRAGMA table_info(templates)').all() as { name: string }[]).map((c) => c.name);
  if (!cols.includes('second_data')) db.exec('ALTER TABLE templates ADD COLUMN second_nonce BLOB; ALTER TABLE templates ADD COLUMN second_tag BLOB; ALTER TABLE templates ADD COLUMN second_data BLOB;');
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

function openChecked(file: string, integrityCheck: boolean): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // The outbox's uuid index takes random inserts; SQLite's 2 MiB default cache makes a deep
    // backlog (1M events) thrash. 16 MiB halves the append cost there.
    db.pragma('cache_size = -16384');
    if (integrityCheck) {
      const res = db.pragma('quick_check', { simple: true });
      if (res !== 'ok') throw new Error(`quick_check: ${String(res)}`);
    }
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB') || /quick_check|malformed|not a database/i.test(String((err as Error)?.message));
}

export interface OpenOptions {
  onCorrupt: 'salvage' | 'quarantine' | 'refuse';
  integrityCheck: boolean;
  now?: () => number;
  /** Called with what a salvage recovered and lost (raise it in /health, /metrics, the audit). */
  onSalvage?: (report: SalvageReport & { movedTo: string }) => void;
}

export function openDatabase(file: string, opts: OpenOptions): Database.Database {
  const paths = salvagePaths(file);
  if (existsSync(paths.done)) {
    // A salvage finished but was killed before its result replaced the corrupt file.
    const result = swapInSalvaged(file, opts);
    log.error('database was salvaged before a restart; put the salvaged copy in place', { file, ...result });
    opts.onSalvage?.(result);
    return openChecked(file, opts.integrityCheck);
  }
  removeDatabaseFiles(paths.tmp); // half a salvage, killed: the corrupt file is still there
  rmSync(paths.report, { force: true });
  try {
    return openChecked(file, opts.integrityCheck);
  } catch (err) {
    if (!isCorruption(err)) throw err;
    if (opts.onCorrupt === 'refuse') {
      log.error('database is corrupt; refusing to start (store.onCorrupt=refuse)', { file, error: (err as Error).message });
      throw new StoreCorruptError(file, err);
    }
    const aside = `${file}.corrupt-${opts.now?.() ?? Date.now()}`;
    if (opts.onCorrupt === 'quarantine') {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
      const db = openChecked(file, opts.integrityCheck);
      log.error('database is corrupt; moved it aside and started a fresh one', { file, movedTo: aside, error: (err as Error).message });
      return db;
    }
    const report = salvageToTemp(file, paths.tmp);
    // Commit point: the report first, then the complete copy under its final temporary name.
    writeFileAtomicSync(paths.report, JSON.stringify({ report, movedTo: aside }));
    renameSync(paths.tmp, paths.done);
    fsyncPath(dirname(file));
    const result = swapInSalvaged(file, opts);
    log.error('database is corrupt; moved it aside and salvaged every readable row into a fresh one', { file, error: (err as Error).message, ...result });
    opts.onSalvage?.(result);
    return openChecked(file, opts.integrityCheck);
  }
}

function salvagePaths(file: string) {
  return { tmp: `${file}.salvage`, done: `${file}.salvaged`, report: `${file}.salvaged.json` };
}

function removeDatabaseFiles(f: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(f + suffix, { force: true });
}

function fsyncPath(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  }
}

/** Every readable row of the corrupt file into a fresh database at `tmp`, closed and fsynced. */
function salvageToTemp(file: string, tmp: string): SalvageReport {
  removeDatabaseFiles(tmp);
  const db = new Database(tmp);
  let report: SalvageReport;
  try {
    // A kill discards this file whole, so no journal on disk and no syncs until the end.
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    migrate(db);
    report = salvageInto(file, db);
  } finally {
    db.close();
  }
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return report;
}

/**
 * Put <file>.salvaged in the corrupt file's place: the corrupt file is kept under its aside name
 * (a hard link, so it keeps its name until the last rename), its -wal and -shm moved beside it,
 * then the salvaged copy renamed over it. Every step may be repeated after a kill.
 */
function swapInSalvaged(file: string, opts: OpenOptions): SalvageReport & { movedTo: string } {
  const paths = salvagePaths(file);
  let saved: { report: SalvageReport; movedTo: string };
  try {
    saved = JSON.parse(readFileSync(paths.report, 'utf8')) as typeof saved;
  } catch {
    const note = 'the salvage finished before a restart and its report was not kept';
    saved = { report: { recovered: {}, lost: {}, notes: { all: note }, unreadable: [] }, movedTo: `${file}.corrupt-${opts.now?.() ?? Date.now()}` };
  }
  const aside = saved.movedTo;
  if (existsSync(file) && !existsSync(aside)) {
    try {
      linkSync(file, aside);
    } catch {
      copyFileSync(file, aside); // no hard links on this filesystem
    }
  }
  for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  fsyncPath(dirname(file));
  renameSync(paths.done, file);
  fsyncPath(dirname(file));
  rmSync(paths.report, { force: true });
  return { ...saved.report, movedTo: aside };
}
