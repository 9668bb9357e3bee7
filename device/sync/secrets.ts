/**
 * Secrets sync reads at start: the device key set and the broker password (both 0600, written by
 * `portier join`), and an optional CA certificate. A secret file that group or others can read
 * stops start-up with the chmod to run, like the template key does.
 */
import { readFileSync } from 'node:fs';
import { readPrivateFile } from '../../core/fs/private-file.ts';
import { isAbsolute, join } from 'node:path';
import { type KeySet, readKeySetFile } from '../../core/sync/keys.ts';
import type { SyncConfig } from './config.ts';

export class SyncSecretError extends Error {
  override name = 'SyncSecretError';
}

export interface SyncSecrets {
  keys: KeySet;
  password: string;
  ca?: Buffer;
}

export function loadSyncSecrets(storeDir: string, config: Pick<SyncConfig, 'keyFile' | 'secretFile' | 'tls'>): SyncSecrets {
  const at = (f: string) => (isAbsolute(f) ? f : join(storeDir, f));
  const keys = readKeySetFile(at(config.keyFile));
  const secretFile = at(config.secretFile);
  let password: string;
  try {
    password = readPrivateFile(secretFile, 'broker password file', 'run `portier join <bundle>` first').toString('utf8').trim();
  } catch (err) {
    throw new SyncSecretError((err as Error).message);
  }
  if (!password) throw new SyncSecretError(`broker password file ${secretFile} is empty`);
  const ca = config.tls.ca ? readFileSync(at(config.tls.ca)) : undefined;
  return { keys, password, ca };
}
