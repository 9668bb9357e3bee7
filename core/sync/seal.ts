/**
 * Sealed boxes for templates in transit: an ephemeral X25519 key agrees a secret with the
 * recipient's static X25519 key, HKDF-SHA256 derives an AES-256-GCM key, and the context string
 * (purpose, recipient, person) is bound as additional data. Only the recipient's private key
 * opens it; a box moved to another person or device fails authentication.
 */
import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { importPublicKey, rawPublicKey } from './keys.ts';

export interface SealedBox {
  /** Ephemeral X25519 public key, base64url raw. */
  epk: string;
  /** 12-byte GCM nonce, base64url. */
  n: string;
  /** Ciphertext followed by the 16-byte tag, base64url. */
  ct: string;
}

export class SealError extends Error {
  override name = 'SealError';
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function derive(shared: Buffer, epk: string, recipient: string, context: string): Buffer {
  const salt = Buffer.concat([Buffer.from(epk, 'base64url'), Buffer.from(recipient, 'base64url')]);
  return Buffer.from(hkdfSync('sha256', shared, salt, `portier-seal-v1|${context}`, 32));
}

/** Seal bytes to a recipient's X25519 public key (raw base64url). */
export function sealTo(recipientPublicKey: string, context: string, plain: Uint8Array): SealedBox {
  const recipient = importPublicKey(recipientPublicKey, 'X25519');
  const eph = generateKeyPairSync('x25519');
  const epk = rawPublicKey(eph.publicKey);
  const key = derive(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), epk, recipientPublicKey, context);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return { epk, n: b64(nonce), ct: b64(ct) };
}

/** Open a box with the recipient's private key; throws SealError if anything does not match. */
export function openSealed(privateKey: KeyObject, context: string, box: SealedBox): Buffer {
  try {
    if (!box || typeof box.epk !== 'string' || typeof box.n !== 'string' || typeof box.ct !== 'string') throw new Error('malformed box');
    const epkKey = importPublicKey(box.epk, 'X25519');
    const own = rawPublicKey(createPublicKey(privateKey));
    const key = derive(diffieHellman({ privateKey, publicKey: epkKey }), box.epk, own, context);
    const all = Buffer.from(box.ct, 'base64url');
    const nonce = Buffer.from(box.n, 'base64url');
    if (nonce.length !== 12 || all.length < 16) throw new Error('malformed box');
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(all.subarray(all.length - 16));
    return Buffer.concat([d.update(all.subarray(0, all.length - 16)), d.final()]);
  } catch (err) {
    throw new SealError(`sealed box cannot be opened (${(err as Error).message})`);
  }
}

/** Context of a template sealed for one recipient and one person. */
export const templateContext = (recipient: string, personId: string) => `template|${recipient}|${personId}`;

/** Context of a second-embedding template: its own label, so it can never stand in for a main one. */
export const secondTemplateContext = (recipient: string, personId: string) => `second-template|${recipient}|${personId}`;

const contextOf = (kind: 'main' | 'second', recipient: string, personId: string) =>
  kind === 'second' ? secondTemplateContext(recipient, personId) : templateContext(recipient, personId);

export function sealEmbedding(recipientPublicKey: string, recipient: string, personId: string, embedding: Float32Array, kind: 'main' | 'second' = 'main'): SealedBox {
  return sealTo(recipientPublicKey, contextOf(kind, recipient, personId), new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength));
}

export function openEmbedding(privateKey: KeyObject, recipient: string, personId: string, box: SealedBox, kind: 'main' | 'second' = 'main'): Float32Array {
  const plain = openSealed(privateKey, contextOf(kind, recipient, personId), box);
  if (plain.length === 0 || plain.length % 4 !== 0) throw new SealError('sealed template is not a whole number of floats');
  const out = new Float32Array(plain.length / 4);
  new Uint8Array(out.buffer).set(plain);
  if (!out.every(Number.isFinite)) throw new SealError('sealed template has non-finite values');
  return out;
}
