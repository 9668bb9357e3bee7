/**
 * Small documents (device settings, sync cursor) in a lowdb JSON file. lowdb's JSONFile writes
 * through steno, which does temp-file + rename but never fsyncs, so a power cut right after a
 * write can leave an empty or old file. Reads go through JSONFile; writes go through
 * writeFileAtomicSync (temp + fsync + rename + fsync of the folder).
 */
import { existsSync, renameSync } from 'node:fs';
import { Low, type Adapter } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';
import { createLogger } from '../../core/log/logger.ts';

const log = createLogger('store');

export class DurableJSONFile<T> implements Adapter<T> {
  private readonly inner: JSONFile<T>;

  constructor(readonly file: string) {
    this.inner = new JSONFile<T>(file);
  }

  read(): Promise<T | null> {
    return this.inner.read();
  }

  async write(data: T): Promise<void> {
    writeFileAtomicSync(this.file, JSON.stringify(data, null, 2) + '\n', 0o600);
  }
}

/**
 * What `portier join` records and MQTT sync keeps up to date (device/provision, device/sync).
 * Absent until the device has joined a gateway.
 */
export interface SyncSettings {
  deviceId: string;
  broker: { url: string; username: string };
  /** The gateway's public keys, pinned at join: base64url of the raw Ed25519 / X25519 keys. */
  gateway: { signPublicKey: string; sealPublicKey: string };
  /** sha256 of the join secret, proves the first `hello`; removed once the gateway has accepted it. */
  joinKey: string | null;
  /** Highest gateway message sequence accepted; anything at or below it is a replay. */
  lastDownSeq: number;
  /** Register change-log cursor; null = no register yet (the next sync is a snapshot). */
  cursor: number | null;
  joinedAt: string;
  /** When the gateway first showed it knows this device's keys (null until then). */
  confirmedAt: string | null;
}

export interface DeviceSettings {
  /** Where MQTT sync resumes (mirror of sync.cursor as text, kept for older readers). */
  syncCursor: string | null;
  /** Settings pushed by the gateway, interpreted by their owners (`groups`, `policy`). */
  values: Record<string, unknown>;
  sync?: SyncSettings;
}

export const defaultDeviceSettings = (): DeviceSettings => ({ syncCursor: null, values: {} });

/**
 * Open (and read) a settings document. An unreadable JSON file is moved aside as
 * `<file>.corrupt-<ts>` with a logged error and the defaults are used, so a bad file never blocks start.
 */
export async function openSettings<T extends object = DeviceSettings>(file: string, defaults: () => T = defaultDeviceSettings as unknown as () => T): Promise<Low<T>> {
  const db = new Low<T>(new DurableJSONFile<T>(file), defaults());
  try {
    await db.read();
  } catch (err) {
    const aside = `${file}.corrupt-${Date.now()}`;
    if (existsSync(file)) renameSync(file, aside);
    log.error('settings file is not valid JSON; moved it aside and using defaults', { file, movedTo: aside, error: (err as Error).message });
    db.data = defaults();
  }
  db.data = { ...defaults(), ...(db.data ?? {}) };
  return db;
}
