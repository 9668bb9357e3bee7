/**
 * Templates and kept photos at rest: AES-256-GCM per row, random 12-byte nonce, and associated
 * data naming the purpose and the person id, so a row copied onto another person (or a photo
 * passed off as a template) fails authentication. The same construction as the device's store,
 * written again here because gateway/ never imports device/.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';

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

/** Reads a 0600 key file; a key group/other may read is refused (it would protect nothing). */
export function loadKeyFile(file: string): Buffer {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new KeyError(`template key file ${file} cannot be read (${(err as Error).message})`);
  }
  if ((st.mode & 0o077) !== 0) {
    throw new KeyError(`template key file ${file} has mode ${(st.mode & 0o777).toString(8)}: group/other may access it; run \`chmod 600 ${file}\``);
  }
  return parseKey(readFileSync(file), `key file ${file}`);
}

/** Loads the key file, creating a random one (0600) when there is none yet. Returns whether it was created. */
export function loadOrCreateKeyFile(file: string): { key: Buffer; created: boolean } {
  if (existsSync(file)) return { key: loadKeyFile(file), created: false };
  writeFileAtomicSync(file, randomBytes(32).toString('base64') + '\n', 0o600);
  return { key: loadKeyFile(file), created: true };
}

export function loadKeyEnv(name: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const v = env[name];
  if (!v) throw new KeyError(`environment variable ${name} (gateway template key) is not set`);
  return parseKey(v, `environment variable ${name}`);
}

export interface Sealed {
  nonce: Buffer;
  tag: Buffer;
  data: Buffer;
}

export const TEMPLATE_AAD = 'portier-gateway-template-v1:';
export const PHOTO_AAD = 'portier-gateway-photo-v1:';

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

export function sealTemplate(key: Buffer, personId: string, embedding: Float32Array): Sealed {
  return seal(key, TEMPLATE_AAD + personId, new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength));
}

export function openTemplate(key: Buffer, personId: string, sealed: Sealed): Float32Array {
  const plain = open(key, TEMPLATE_AAD + personId, sealed);
  if (plain.length % 4 !== 0) throw new Error('template length is not a whole number of floats');
  const out = new Float32Array(plain.length / 4);
  new Uint8Array(out.buffer).set(plain);
  return out;
}

export const sealPhoto = (key: Buffer, personId: string, image: Uint8Array): Sealed => seal(key, PHOTO_AAD + personId, image);
export const openPhoto = (key: Buffer, personId: string, sealed: Sealed): Buffer => open(key, PHOTO_AAD + personId, sealed);
