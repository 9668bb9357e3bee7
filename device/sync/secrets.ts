/**
 * Secrets sync reads at start: the device key set and the broker password (both 0600, written by
 * `portier join`), and an optional CA certificate. A secret file that group or others can read
 * stops start-up with the chmod to run, like the template key does.
 */
import { readFileSync, statSync } from 'node:fs';
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
  let st;
  try {
    st = statSync(secretFile);
  } catch (err) {
    throw new SyncSecretError(`broker password file ${secretFile} cannot be read (${(err as Error).message}); run \`portier join <bundle>\` first`);
  }
  if ((st.mode & 0o077) !== 0) throw new SyncSecretError(`broker password file ${secretFile} has mode ${(st.mode & 0o777).toString(8)}; run \`chmod 600 ${secretFile}\``);
  const password = readFileSync(secretFile, 'utf8').trim();
  if (!password) throw new SyncSecretError(`broker password file ${secretFile} is empty`);
  const ca = config.tls.ca ? readFileSync(at(config.tls.ca)) : undefined;
  return { keys, password, ca };
}
