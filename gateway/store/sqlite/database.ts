/**
 * Opens the gateway database: WAL, synchronous=FULL (a commit is on disk when it returns, which
 * the audit acknowledgement and the down sequence rely on), foreign keys on. Unlike the device,
 * a corrupt file is never moved aside for a fresh one: the register is the source of truth, so
 * start-up stops with the reason and the operator restores a backup.
 *
 * The DDL is the SQLite dialect; the queries elsewhere stay portable (BIGINT milliseconds, TEXT
 * ids, INTEGER 0/1 flags bound by the code, ON CONFLICT ... DO NOTHING/UPDATE).
 */
import Database from 'better-sqlite3';
import { createLogger } from '../../../core/log/logger.ts';

const log = createLogger('gateway-store');

export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`gateway database ${file} is corrupt: ${(cause as Error)?.message ?? cause}; restore it from a backup`, { cause });
    this.name = 'StoreCorruptError';
  }
}

const SCHEMA_VERSION = 2;

const SCHEMA_V1 = `
  CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    employee_no TEXT,
    active INTEGER NOT NULL,
    valid_from TEXT,
    valid_until TEXT,
    valid_until_ms BIGINT,
    groups_json TEXT NOT NULL,
    schedules_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS people_employee_no ON people(employee_no);
  CREATE INDEX IF NOT EXISTS people_name ON people(name_lc, id);
  CREATE INDEX IF NOT EXISTS people_valid_until ON people(valid_until_ms);
  CREATE TABLE IF NOT EXISTS person_groups (
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    PRIMARY KEY (person_id, group_id)
  );
  CREATE INDEX IF NOT EXISTS person_groups_group ON person_groups(group_id);
  CREATE TABLE IF NOT EXISTS templates (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    source TEXT NOT NULL,
    quality REAL,
    nonce BLOB NOT NULL,
    tag BLOB NOT NULL,
    data BLOB NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS templates_person ON templates(person_id, created_at);
  CREATE TABLE IF NOT EXISTS photos (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    template_id TEXT,
    content_type TEXT,
    nonce BLOB NOT NULL,
    tag BLOB NOT NULL,
    data BLOB NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS photos_person ON photos(person_id, created_at);
  CREATE TABLE IF NOT EXISTS access_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    schedules_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS doors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    door_id TEXT,
    broker_password_hash TEXT,
    join_secret_hash TEXT,
    sign_public_key TEXT,
    seal_public_key TEXT,
    down_seq BIGINT NOT NULL DEFAULT 0,
    sync_cursor BIGINT,
    last_seen BIGINT,
    status_json TEXT,
    online INTEGER NOT NULL DEFAULT 0,
    snapshot_required INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS register_log (
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    deleted INTEGER NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (kind, entity_id)
  );
  CREATE UNIQUE INDEX IF NOT EXISTS register_log_seq ON register_log(seq);
  CREATE TABLE IF NOT EXISTS register_meta (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
  );
  INSERT INTO register_meta (name, value) VALUES ('head', 0) ON CONFLICT (name) DO NOTHING;
  INSERT INTO register_meta (name, value) VALUES ('purged_up_to', 0) ON CONFLICT (name) DO NOTHING;
  CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT,
    event_id TEXT NOT NULL,
    seq BIGINT,
    ts BIGINT NOT NULL,
    kind TEXT NOT NULL,
    decision TEXT,
    reason TEXT,
    person_id TEXT,
    door TEXT,
    actor TEXT,
    target TEXT,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS audit_event ON audit_log(device_id, event_id);
  CREATE INDEX IF NOT EXISTS audit_ts ON audit_log(ts, id);
  CREATE INDEX IF NOT EXISTS audit_person ON audit_log(person_id, ts);
  CREATE INDEX IF NOT EXISTS audit_door ON audit_log(door, ts);
  CREATE INDEX IF NOT EXISTS audit_device ON audit_log(device_id, ts);
`;

/** v2: the second embedding's template beside the main one, sealed the same way (null: none, as in every older row). */
const SCHEMA_V2 = `
  ALTER TABLE templates ADD COLUMN second_nonce BLOB;
  ALTER TABLE templates ADD COLUMN second_tag BLOB;
  ALTER TABLE templates ADD COLUMN second_data BLOB;
`;

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new Error(`gateway database schema v${version} is newer than this gateway (v${SCHEMA_VERSION}); upgrade the gateway`);
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version < 1) db.exec(SCHEMA_V1);
    if (version < 2) db.exec(SCHEMA_V2);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB') || /quick_check|malformed|not a database/i.test(String((err as Error)?.message));
}

export function openGatewayDatabase(file: string, opts: { integrityCheck: boolean }): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -16384');
    if (opts.integrityCheck) {
      const res = db.pragma('quick_check', { simple: true });
      if (res !== 'ok') throw new Error(`quick_check: ${String(res)}`);
    }
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    if (isCorruption(err)) {
      log.error('gateway database is corrupt; refusing to start', { file, error: (err as Error).message });
      throw new StoreCorruptError(file, err);
    }
    throw err;
  }
}
