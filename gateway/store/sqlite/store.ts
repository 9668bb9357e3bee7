/** Assembles the SQLite backend of the gateway store from its repositories. */
import { mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type Database from 'better-sqlite3';
import { createLogger } from '../../../core/log/logger.ts';
import type { GatewayStoreConfig } from '../config.ts';
import { loadKeyEnv, loadOrCreateKeyFile } from '../crypto.ts';
import type { GatewayStore } from '../types.ts';
import { createAuditLog } from './audit.ts';
import { openGatewayDatabase } from './database.ts';
import { createDevicesRepo } from './devices.ts';
import { createDoorsRepo, createGroupsRepo } from './groups.ts';
import { createPeopleRepo } from './people.ts';
import { createRegisterLog } from './register.ts';
import { createPhotosRepo, createTemplatesRepo } from './templates.ts';

const log = createLogger('gateway-store');

export interface SqliteGatewayStore extends GatewayStore {
  /** The better-sqlite3 handle, for modules keeping their own tables in the same file (auth). */
  readonly db: Database.Database;
  readonly file: string;
}

export interface GatewayStoreDeps {
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export function openSqliteGatewayStore(cfg: GatewayStoreConfig, deps: GatewayStoreDeps = {}): SqliteGatewayStore {
  const now = deps.now ?? Date.now;
  const at = (f: string) => (isAbsolute(f) ? f : join(cfg.dir, f));
  mkdirSync(cfg.dir, { recursive: true, mode: 0o700 });
  // Key first: a missing or exposed key must stop start-up before the database is touched.
  let key: Buffer;
  if (cfg.templateKey.type === 'file') {
    const k = loadOrCreateKeyFile(at(cfg.templateKey.file));
    if (k.created) log.info('created a new template key; back it up with the database, templates cannot be read without it', { file: at(cfg.templateKey.file) });
    key = k.key;
  } else {
    key = loadKeyEnv(cfg.templateKey.env, deps.env ?? process.env);
  }
  const file = at(cfg.databaseFile);
  const db = openGatewayDatabase(file, { integrityCheck: cfg.integrityCheck });
  try {
    if (!cfg.keepPhotos) {
      // Turning keepPhotos off means no photo is kept: the ones kept while it was on go too.
      const n = db.prepare('DELETE FROM photos').run().changes;
      if (n) log.warn('keepPhotos is off: deleted enrolment photos kept earlier', { photos: n });
    }
    const register = createRegisterLog(db, now, cfg.tombstoneRetentionDays * 86_400_000);
    return {
      config: cfg,
      db,
      file,
      register,
      people: createPeopleRepo(db, register, now),
      templates: createTemplatesRepo(db, key, register, now),
      photos: createPhotosRepo(db, key, cfg.keepPhotos, now),
      groups: createGroupsRepo(db, register, now),
      doors: createDoorsRepo(db, now),
      devices: createDevicesRepo(db, now, register),
      audit: createAuditLog(db, now),
      transaction: <T>(fn: () => T): T => db.transaction(fn)(),
      close: () => {
        if (db.open) db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
