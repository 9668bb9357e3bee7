/**
 * Broker passwords of devices. The gateway generates them (24 random bytes, base64url), hands
 * them to the device once in the provisioning bundle and keeps only an scrypt hash in its device
 * table, in the shared format of gateway/crypto/scrypt-hash.ts:
 * `scrypt$ln=14,r=8,p=1$<salt b64url>$<hash b64url>`.
 *
 * Why ln=14 (16 MiB, ~40 ms) and not the admin-login cost: these passwords carry 192 random
 * bits, so a stolen hash cannot be brute-forced at any cost; the KDF only has to be one-way.
 * Each CONNECT pays one verification, and 200 devices reconnecting after a gateway restart
 * should not queue for seconds. Unlike admin passwords they are compared byte for byte (no
 * Unicode normalisation): nobody types them.
 */
import { randomBytes } from 'node:crypto';
import { scryptHash, scryptVerify } from '../crypto/scrypt-hash.ts';

const LOG_N = 14;

/** 24 random bytes, base64url (32 characters, no padding, safe in URLs, JSON and config files). */
export function generateBrokerPassword(): string {
  return randomBytes(24).toString('base64url');
}

export async function hashBrokerPassword(password: string): Promise<string> {
  return scryptHash(password, LOG_N);
}

/** True when `password` matches `hash`; false for a wrong password or a malformed hash (never throws). */
export async function verifyBrokerPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await scryptVerify(password, hash);
  } catch {
    return false;
  }
}
