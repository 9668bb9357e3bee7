/**
 * Encryption at rest, shared by the device's and the gateway's stores: AES-256-GCM per row with
 * a random 12-byte nonce and associated data naming the purpose and the owner (e.g. the person
 * id), so a row copied onto another person, or a photo passed off as a template, fails
 * authentication. The 32-byte key comes from a 0600 file of the process's own user, an
 * environment variable, or a systemd credential (decrypted by systemd, TPM2-sealed where the
 * board has a TPM; see loadKeyCredential).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic.ts';
import { PrivateFileError, readPrivateFile } from '../fs/private-file.ts';

export class KeyError extends Error {
  override name = 'KeyError';
}

/** Accepts 64 hex chars, base64 of 32 bytes, or (files only) 32 raw bytes. */
export function parseKey(raw: Buffer | string, where: string): Buffer {
  if (Buffer.isBuffer(raw) && raw.length === 32) return Buffer.from(raw);
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const b = Buffer.from(text, 'base64');
    if (b.length === 32) return b;
  }
  throw new KeyError(`${where}: template key must be 32 bytes, given as 64 hex characters or base64`);
}

export function loadKeyFile(file: string, hint = 'create one with `portier keygen`'): Buffer {
  try {
    return parseKey(readPrivateFile(file, 'template key file', hint), `key file ${file}`);
  } catch (err) {
    if (err instanceof PrivateFileError) throw new KeyError(err.message);
    throw err;
  }
}

export function loadKeyEnv(name: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const v = env[name];
  if (!v) throw new KeyError(`environment variable ${name} (template key) is not set`);
  return parseKey(v, `environment variable ${name}`);
}

/** systemd credential names: a file name in $CREDENTIALS_DIRECTORY (no path, not . or ..). */
export const credentialNamePattern = /^(?!\.{1,2}$)[A-Za-z0-9_.@-]{1,255}$/;

/**
 * The key from a systemd credential: `$CREDENTIALS_DIRECTORY/<name>`, which systemd fills before
 * start from `LoadCredentialEncrypted=<name>:<file.cred>` (decrypted with the TPM2 and/or the
 * host key) or `LoadCredential=`. No mode/owner check here, unlike a key file: systemd writes the
 * credential 0400 into a per-service, non-swappable directory only the service's user can
 * read, owned by root with a read ACL for that user (so its mode shows 0440); the checks would
 * refuse a correctly delivered credential.
 */
export function loadKeyCredential(name: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (!credentialNamePattern.test(name)) throw new KeyError(`credential name "${name}" is not a plain file name`);
  const dir = env.CREDENTIALS_DIRECTORY;
  const unitLine = `LoadCredentialEncrypted=${name}:/etc/credstore.encrypted/${name}.cred`;
  if (!dir) {
    throw new KeyError(
      `store.templateKey.type is "credential" but $CREDENTIALS_DIRECTORY is not set: run the daemon under systemd with ${unitLine} in the unit (see systemd/portier-device.service)`,
    );
  }
  let raw: Buffer;
  try {
    raw = readFileSync(join(dir, name));
  } catch (err) {
    throw new KeyError(`template key credential ${name} cannot be read from $CREDENTIALS_DIRECTORY (${(err as Error).message}): add ${unitLine} to the unit`);
  }
  return parseKey(raw, `credential ${name}`);
}

/** Writes a new random key (base64) with mode 0600. Refuses to replace an existing key: that would orphan every template. */
export function generateKeyFile(file: string): void {
  if (existsSync(file)) throw new KeyError(`template key file ${file} already exists; refusing to overwrite it`);
  writeFileAtomicSync(file, randomBytes(32).toString('base64') + '\n', 0o600);
}

/** Loads the key file, creating a random one (0600) when there is none yet. */
export function loadOrCreateKeyFile(file: string): { key: Buffer; created: boolean } {
  if (existsSync(file)) return { key: loadKeyFile(file), created: false };
  generateKeyFile(file);
  return { key: loadKeyFile(file), created: true };
}

export interface Sealed {
  nonce: Buffer;
  tag: Buffer;
  data: Buffer;
}

export function seal(key: Buffer, aad: string, plain: Uint8Array): Sealed {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([c.update(plain), c.final()]);
  return { nonce, tag: c.getAuthTag(), data };
}

/** Throws when the key is wrong, the row was altered, or the associated data differs. */
export function open(key: Buffer, aad: string, sealed: Sealed): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.nonce);
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.tag);
  return Buffer.concat([d.update(sealed.data), d.final()]);
}

export function sealFloats(key: Buffer, aad: string, v: Float32Array): Sealed {
  return seal(key, aad, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

export function openFloats(key: Buffer, aad: string, sealed: Sealed): Float32Array {
  const plain = open(key, aad, sealed);
  if (plain.length % 4 !== 0) throw new Error('template length is not a whole number of floats');
  const out = new Float32Array(plain.length / 4);
  new Uint8Array(out.buffer).set(plain);
  return out;
}
