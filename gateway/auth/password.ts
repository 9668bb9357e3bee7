/**
 * Admin password hashing: scrypt in the shared self-describing format (gateway/crypto/scrypt-hash.ts),
 * `scrypt$ln=15,r=8,p=1$<salt b64url>$<hash b64url>`, at the configured cost (auth.scryptLogN).
 * Passwords are NFC-normalised first: people type them, and the same password may arrive
 * composed or decomposed depending on the keyboard.
 */
import { randomBytes } from 'node:crypto';
import { scryptHash, scryptVerify } from '../crypto/scrypt-hash.ts';

export async function hashPassword(password: string, logN: number): Promise<string> {
  return scryptHash(password.normalize('NFC'), logN);
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  return scryptVerify(password.normalize('NFC'), stored);
}

/** A hash of a random password, verified against when the username is unknown so both failures take as long. */
export function dummyHash(logN: number): Promise<string> {
  return hashPassword(randomBytes(18).toString('base64url'), logN);
}
