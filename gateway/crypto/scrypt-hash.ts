/**
 * scrypt hashes (memory-hard, node:crypto) in one self-describing format,
 * `scrypt$ln=<log2 N>,r=8,p=1$<salt b64url>$<hash b64url>`. The stored string carries its own
 * parameters and salt, so raising the cost later leaves old hashes verifiable. Admin logins
 * (gateway/auth/password.ts) and device broker passwords (gateway/broker/passwords.ts) both use
 * it, each with its own cost.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_LEN = 32;
const SALT_LEN = 16;
const R = 8;
const P = 1;
// Parameters read back from a database are bounded so a tampered row cannot make a login or a
// broker CONNECT allocate gigabytes.
const MIN_LOG_N = 10;
const MAX_LOG_N = 20;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  // Node's default maxmem (32 MiB) is exactly 128*N*r at N=2^15 and refuses it; allow twice that.
  const maxmem = 256 * N * r + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LEN, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Hash `password` with a fresh random salt at cost N = 2^logN. */
export async function scryptHash(password: string, logN: number): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, logN, R, P);
  return `scrypt$ln=${logN},r=${R},p=${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface Parsed {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const m = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return null;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < MIN_LOG_N || logN > MAX_LOG_N || r < 1 || r > 32 || p < 1 || p > 16) return null;
  const salt = Buffer.from(m[4], 'base64url');
  const key = Buffer.from(m[5], 'base64url');
  if (salt.length < 8 || key.length !== KEY_LEN) return null;
  return { logN, r, p, salt, key };
}

/**
 * True when `password` matches `stored`; false for a wrong password or a malformed hash.
 * Rejects only if the key derivation itself fails.
 */
export async function scryptVerify(password: string, stored: string): Promise<boolean> {
  const h = parse(stored);
  if (!h) return false;
  const key = await derive(password, h.salt, h.logN, h.r, h.p);
  return timingSafeEqual(key, h.key);
}
