/**
 * Template encryption at rest: AES-256-GCM per row, random 12-byte nonce, the person id as
 * additional authenticated data so a row copied onto another person fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from '../../core/fs/atomic.ts';

export class KeyError extends Error {
  override name = 'KeyError';
}

const AAD_PREFIX = 'portier-template-v1:';

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

export function loadKeyFile(file: string): Buffer {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new KeyError(`template key file ${file} cannot be read (${(err as Error).message}); create one with generateKeyFile / \`portier keygen\``);
  }
  if ((st.mode & 0o077) !== 0) {
    throw new KeyError(
      `template key file ${file} has mode ${(st.mode & 0o777).toString(8)}: group/other may access it; run \`chmod 600 ${file}\``,
    );
  }
  return parseKey(readFileSync(file), `key file ${file}`);
}

export function loadKeyEnv(name: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const v = env[name];
  if (!v) throw new KeyError(`environment variable ${name} (template key) is not set`);
  return parseKey(v, `environment variable ${name}`);
}

/** Writes a new random key (base64) with mode 0600. Refuses to replace an existing key: that would orphan every template. */
export function generateKeyFile(file: string): void {
  if (existsSync(file)) throw new KeyError(`template key file ${file} already exists; refusing to overwrite it`);
  writeFileAtomicSync(file, randomBytes(32).toString('base64') + '\n', 0o600);
}

export interface SealedTemplate {
  nonce: Buffer;
  tag: Buffer;
  data: Buffer;
}

/** AES-256-GCM with a fresh 12-byte nonce; `aad` binds the row to its owner and purpose. */
function seal(key: Buffer, aad: string, plain: Uint8Array): SealedTemplate {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([c.update(plain), c.final()]);
  return { nonce, tag: c.getAuthTag(), data };
}

function open(key: Buffer, aad: string, sealed: SealedTemplate): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.nonce);
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.tag);
  return Buffer.concat([d.update(sealed.data), d.final()]);
}

export function sealTemplate(key: Buffer, personId: string, embedding: Float32Array): SealedTemplate {
  return seal(key, AAD_PREFIX + personId, new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength));
}

/** Throws when the key is wrong, the row was altered or it belongs to another person. */
export function openTemplate(key: Buffer, personId: string, sealed: SealedTemplate): Float32Array {
  const plain = open(key, AAD_PREFIX + personId, sealed);
  if (plain.length % 4 !== 0) throw new Error('template length is not a whole number of floats');
  const out = new Float32Array(plain.length / 4);
  new Uint8Array(out.buffer).set(plain);
  return out;
}

const IMAGE_AAD_PREFIX = 'portier-face-image-v1:';

export function sealFaceImage(key: Buffer, personId: string, image: Uint8Array): SealedTemplate {
  return seal(key, IMAGE_AAD_PREFIX + personId, image);
}

export function openFaceImage(key: Buffer, personId: string, sealed: SealedTemplate): Buffer {
  return open(key, IMAGE_AAD_PREFIX + personId, sealed);
}
