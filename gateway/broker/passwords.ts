/**
 * Broker passwords of devices. The gateway generates them (24 random bytes, base64url), hands
 * them to the device once in the provisioning bundle and keeps only an scrypt hash in its device
 * table: `scrypt$ln=14,r=8,p=1$<salt b64url>$<hash b64url>`. The parameters travel with the hash
 * so a later cost change leaves stored hashes verifiable.
 *
 * Why ln=14 (16 MiB, ~40 ms) and not the admin-login cost: these passwords carry 192 random
 * bits, so a stolen hash cannot be brute-forced at any cost; the KDF only has to be one-way.
 * Each CONNECT pays one verification, and 200 devices reconnecting after a gateway restart
 * should not queue for seconds.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const LOG_N = 14;
const R = 8;
const P = 1;
const KEY_LEN = 32;
const SALT_LEN = 16;

/** 24 random bytes, base64url (32 characters, no padding, safe in URLs, JSON and config files). */
export function generateBrokerPassword(): string {
  return randomBytes(24).toString('base64url');
}

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r + (1 << 20) }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashBrokerPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, LOG_N, R, P);
  return `scrypt$ln=${LOG_N},r=${R},p=${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches `hash`; false for a wrong password or a malformed hash (never throws). */
export async function verifyBrokerPassword(password: string, hash: string): Promise<boolean> {
  const m = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(hash);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounded so a tampered row cannot make every CONNECT allocate gigabytes.
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(m[4], 'base64url');
  const want = Buffer.from(m[5], 'base64url');
  if (salt.length < 8 || want.length !== KEY_LEN) return false;
  try {
    return timingSafeEqual(await derive(password, salt, logN, r, p), want);
  } catch {
    return false;
  }
}
