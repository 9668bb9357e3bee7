/**
 * Joining a gateway, on the device (`portier join <bundle>`): the device makes its own key pairs
 * (they never leave it), keeps the broker password in a 0600 file, and pins the gateway's public
 * keys in the settings document. The join secret itself is not kept, only its digest (joinKey),
 * and only until the gateway has accepted the device's first hello.
 */
import { mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';
import { createLogger } from '../../core/log/logger.ts';
import { decodeBundle, joinKey } from '../../core/sync/bundle.ts';
import { loadOrCreateKeySet, publicKeys, type PublicKeySet } from '../../core/sync/keys.ts';
import { generateKeyFile } from '../store/crypto.ts';
import { type DeviceSettings, openSettings, type SyncSettings } from '../store/settings.ts';
import type { SyncConfig } from '../sync/config.ts';

const log = createLogger('provision');

export class JoinError extends Error {
  override name = 'JoinError';
}

export interface JoinOptions {
  /** store.dir of the device config. */
  storeDir: string;
  /** The bundle printed by `portier provision <id>` on the gateway. */
  bundle: string;
  /** Sync section of the device config (keyFile, secretFile). */
  config: Pick<SyncConfig, 'keyFile' | 'secretFile'>;
  /** store.settingsFile (default settings.json). */
  settingsFile?: string;
  /** Allow joining a different gateway than the pinned one (resets the register cursor). */
  force?: boolean;
  now?: () => number;
}

export interface JoinResult extends PublicKeySet {
  deviceId: string;
  brokerUrl: string;
  /** The key file was created now (false: the existing device keys were kept). */
  keysCreated: boolean;
  /** A different gateway (or device id) replaced an earlier join. */
  replaced: boolean;
  keyFile: string;
  secretFile: string;
}

const inDir = (dir: string, f: string) => (isAbsolute(f) ? f : join(dir, f));

export async function joinDevice(o: JoinOptions): Promise<JoinResult> {
  const bundle = decodeBundle(o.bundle);
  mkdirSync(o.storeDir, { recursive: true, mode: 0o700 });
  const settings = await openSettings<DeviceSettings>(inDir(o.storeDir, o.settingsFile ?? 'settings.json'));
  const prev = settings.data.sync;
  const sameGateway = !prev || prev.gateway.signPublicKey === bundle.gateway.signPublicKey;
  if (!sameGateway && !o.force) {
    throw new JoinError(
      `this device is joined to another gateway (signing key ${prev!.gateway.signPublicKey.slice(0, 12)}…); ` +
        'joining a different one replaces its register on the next sync: repeat with --force to do that',
    );
  }
  // A new gateway or a new name: the cursor and the sequence number belong to the old pairing.
  const keep = prev && sameGateway && prev.deviceId === bundle.deviceId;

  const keyFile = inDir(o.storeDir, o.config.keyFile);
  const { keys, created } = loadOrCreateKeySet(keyFile);
  const secretFile = inDir(o.storeDir, o.config.secretFile);
  writeFileAtomicSync(secretFile, bundle.broker.password, 0o600);

  const sync: SyncSettings = {
    deviceId: bundle.deviceId,
    broker: { url: bundle.broker.url, username: bundle.broker.username },
    gateway: { signPublicKey: bundle.gateway.signPublicKey, sealPublicKey: bundle.gateway.sealPublicKey },
    joinKey: joinKey(bundle.joinSecret),
    lastDownSeq: keep ? prev.lastDownSeq : 0,
    cursor: keep ? prev.cursor : null,
    joinedAt: new Date(o.now?.() ?? Date.now()).toISOString(),
    confirmedAt: null,
  };
  settings.data.sync = sync;
  settings.data.syncCursor = sync.cursor === null ? null : String(sync.cursor);
  await settings.write();
  const replaced = !!prev && !keep;
  log.info('joined gateway', { deviceId: sync.deviceId, broker: sync.broker.url, keysCreated: created, replaced });
  return { deviceId: sync.deviceId, brokerUrl: sync.broker.url, ...publicKeys(keys), keysCreated: created, replaced, keyFile, secretFile };
}

/** Create the template encryption key (`portier keygen`); refuses to overwrite one. Returns its path. */
export function keygen(storeDir: string, templateKeyFile = 'template.key'): string {
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  const file = inDir(storeDir, templateKeyFile);
  generateKeyFile(file);
  return file;
}
