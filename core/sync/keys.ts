/**
 * Key pairs of the sync protocol, all from node:crypto: Ed25519 to sign messages, X25519 to seal
 * templates. Public keys travel as base64url of their 32 raw bytes; private keys stay in PKCS#8
 * PEM files with mode 0600 on the machine that made them.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFileAtomicSync } from '../fs/atomic.ts';
import { readPrivateFile } from '../fs/private-file.ts';

export class SyncKeyError extends Error {
  override name = 'SyncKeyError';
}

/** A signing (Ed25519) and a sealing (X25519) key pair. */
export interface KeySet {
  sign: { privateKey: KeyObject; publicKey: KeyObject };
  seal: { privateKey: KeyObject; publicKey: KeyObject };
}

export interface PublicKeySet {
  /** Ed25519, base64url of the raw 32 bytes. */
  signPublicKey: string;
  /** X25519, base64url of the raw 32 bytes. */
  sealPublicKey: string;
}

export function generateKeySet(): KeySet {
  return { sign: generateKeyPairSync('ed25519'), seal: generateKeyPairSync('x25519') };
}

/** Raw 32-byte public key as base64url (from the JWK `x` member). */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.x) throw new SyncKeyError('not an OKP public key');
  return jwk.x;
}

export function publicKeys(keys: KeySet): PublicKeySet {
  return { signPublicKey: rawPublicKey(keys.sign.publicKey), sealPublicKey: rawPublicKey(keys.seal.publicKey) };
}

const RAW_KEY = /^[A-Za-z0-9_-]{43}$/;

/** Import a raw base64url public key; throws SyncKeyError on anything that is not 32 bytes. */
export function importPublicKey(raw: string, crv: 'Ed25519' | 'X25519'): KeyObject {
  if (typeof raw !== 'string' || !RAW_KEY.test(raw)) throw new SyncKeyError(`${crv} public key must be 32 bytes in base64url`);
  return createPublicKey({ key: { kty: 'OKP', crv, x: raw }, format: 'jwk' });
}

/** Write a key set as one PEM file (both private keys), mode 0600. Refuses to overwrite. */
export function writeKeySetFile(file: string, keys: KeySet): void {
  if (existsSync(file)) throw new SyncKeyError(`key file ${file} already exists; refusing to overwrite it`);
  const pem = [keys.sign.privateKey, keys.seal.privateKey].map((k) => k.export({ format: 'pem', type: 'pkcs8' }) as string).join('');
  writeFileAtomicSync(file, pem, 0o600);
}

/** Read a key set written by writeKeySetFile; refuses a file that group or others can read. */
export function readKeySetFile(file: string): KeySet {
  let text: string;
  try {
    text = readPrivateFile(file, 'key file').toString('utf8');
  } catch (err) {
    throw new SyncKeyError((err as Error).message);
  }
  const blocks = text.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g) ?? [];
  const priv = blocks.map((b) => createPrivateKey(b));
  const sign = priv.find((k) => k.asymmetricKeyType === 'ed25519');
  const seal = priv.find((k) => k.asymmetricKeyType === 'x25519');
  if (!sign || !seal) throw new SyncKeyError(`key file ${file} must hold one Ed25519 and one X25519 private key`);
  return { sign: { privateKey: sign, publicKey: createPublicKey(sign) }, seal: { privateKey: seal, publicKey: createPublicKey(seal) } };
}

/** Load the key set, creating it on first use. */
export function loadOrCreateKeySet(file: string): { keys: KeySet; created: boolean } {
  if (existsSync(file)) return { keys: readKeySetFile(file), created: false };
  const keys = generateKeySet();
  writeKeySetFile(file, keys);
  return { keys, created: true };
}
