/**
 * Opens the device database with durable settings (WAL, synchronous=FULL) and turns a corrupt
 * file into a salvage (every readable row copied into a fresh file; salvage.ts) instead of a
 * crash loop.
 */
import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
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

const SCHEMA_VERSION = 2;

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
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
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
  try {
    return openChecked(file, opts.integrityCheck);
  } catch (err) {
    if (!isCorruption(err)) throw err;
    if (opts.onCorrupt === 'refuse') {
      log.error('database is corrupt; refusing to start (store.onCorrupt=refuse)', { file, error: (err as Error).message });
      throw new StoreCorruptError(file, err);
    }
    const aside = `${file}.corrupt-${opts.now?.() ?? Date.now()}`;
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    const db = openChecked(file, opts.integrityCheck);
    if (opts.onCorrupt === 'quarantine') {
      log.error('database is corrupt; moved it aside and started a fresh one', { file, movedTo: aside, error: (err as Error).message });
      return db;
    }
    const report = salvageInto(aside, db);
    log.error('database is corrupt; moved it aside and salvaged every readable row into a fresh one', { file, movedTo: aside, error: (err as Error).message, ...report });
    opts.onSalvage?.({ ...report, movedTo: aside });
    return db;
  }
}
