/**
 * The device store: settings (lowdb), and one SQLite database holding the audit outbox, persons
 * and encrypted templates. `openStore` returns everything the daemon wires in; `close` releases it.
 */
import { mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import type { Low } from 'lowdb';
import { type StoreConfig, storeConfigSchema } from './config.ts';
import { loadKeyCredential, loadKeyEnv, loadKeyFile } from './crypto.ts';
import { FaceImageStore } from './face-images.ts';
import { Outbox } from './outbox.ts';
import { PersonStore } from './persons.ts';
import { type DeviceSettings, openSettings } from './settings.ts';
import type { SalvageReport } from './salvage.ts';
import { openDatabase } from './sqlite.ts';
import { type TemplateSink, TemplateStore } from './templates.ts';

export interface DeviceStore {
  readonly config: StoreConfig;
  readonly db: Database.Database;
  readonly outbox: Outbox;
  readonly persons: PersonStore;
  readonly templates: TemplateStore;
  /** Enrolment photos; written only when config.storeFaceImages is on. */
  readonly faceImages: FaceImageStore;
  readonly settings: Low<DeviceSettings>;
  /** Set when the database was found corrupt at open and salvaged: what was recovered and lost. */
  readonly salvage?: SalvageReport & { movedTo: string };
  /** Delete a person and their templates in one transaction. */
  removePerson(id: string): boolean;
  /** Decrypt all templates into the gallery. */
  loadGallery(gallery: TemplateSink): { loaded: number; rejected: number };
  close(): void;
}

export interface StoreDeps {
  env?: NodeJS.ProcessEnv;
}

/** The template key from the configured source (store.templateKey.type); throws KeyError with the fix. */
export function loadTemplateKey(cfg: StoreConfig, env: NodeJS.ProcessEnv = process.env): Buffer {
  const k = cfg.templateKey;
  if (k.type === 'credential') return loadKeyCredential(k.credential, env);
  if (k.type === 'env') return loadKeyEnv(k.env, env);
  return loadKeyFile(isAbsolute(k.file) ? k.file : join(cfg.dir, k.file));
}

export async function openStore(config: z.input<typeof storeConfigSchema> = {}, deps: StoreDeps = {}): Promise<DeviceStore> {
  const cfg = storeConfigSchema.parse(config);
  const at = (f: string) => (isAbsolute(f) ? f : join(cfg.dir, f));
  mkdirSync(cfg.dir, { recursive: true, mode: 0o700 });
  // Key first: a missing or exposed key must stop start-up before anything is opened.
  const key = loadTemplateKey(cfg, deps.env ?? process.env);
  const settings = await openSettings<DeviceSettings>(at(cfg.settingsFile));
  let salvage: (SalvageReport & { movedTo: string }) | undefined;
  const db = openDatabase(at(cfg.databaseFile), { onCorrupt: cfg.onCorrupt, integrityCheck: cfg.integrityCheck, onSalvage: (r) => (salvage = r) });
  const persons = new PersonStore(db);
  const templates = new TemplateStore(db, key);
  const faceImages = new FaceImageStore(db, key);
  const removeTx = db.transaction((id: string) => {
    faceImages.removePerson(id);
    const t = templates.removePerson(id);
    return persons.remove(id) || t > 0;
  });
  return {
    config: cfg,
    db,
    outbox: new Outbox(db),
    persons,
    templates,
    faceImages,
    settings,
    salvage,
    removePerson: (id) => removeTx(id),
    loadGallery: (g) => templates.loadInto(g),
    close: () => db.close(),
  };
}
