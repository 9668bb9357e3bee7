/**
 * The provisioning bundle: what `portier provision <id>` prints on the gateway and
 * `portier join <bundle>` consumes on the device. It carries the broker credentials, the
 * gateway's public keys (pinned by the device) and a one-time join secret that proves, in the
 * device's first `hello`, that the keys announced are the provisioned device's. The device's
 * private keys are made on the device and never travel. Treat a bundle like a password.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical.ts';
import { deviceIdPattern } from './contract.ts';

export const bundleSchema = z.strictObject({
  v: z.literal(1),
  deviceId: z.string().regex(deviceIdPattern),
  broker: z.strictObject({ url: z.string().min(1), username: z.string().min(1), password: z.string().min(1) }),
  gateway: z.strictObject({ signPublicKey: z.string(), sealPublicKey: z.string() }),
  joinSecret: z.string().min(16),
});
export type Bundle = z.output<typeof bundleSchema>;

const PREFIX = 'portier1.';

export function encodeBundle(b: Bundle): string {
  return PREFIX + Buffer.from(JSON.stringify(b)).toString('base64url');
}

export function decodeBundle(text: string): Bundle {
  const t = text.trim();
  if (!t.startsWith(PREFIX)) throw new Error('not a Portier provisioning bundle (expected it to start with "portier1.")');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(t.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw new Error('provisioning bundle is corrupt (not base64url JSON)');
  }
  const r = bundleSchema.safeParse(raw);
  if (!r.success) throw new Error(`provisioning bundle is invalid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/**
 * What the gateway keeps of the join secret: its SHA-256. The proof is keyed with this digest, so
 * the gateway never stores the secret itself; the digest is deleted once the device has joined.
 */
export function joinKey(joinSecret: string): string {
  return createHash('sha256').update(joinSecret).digest('base64url');
}

/** HMAC proof binding the device's announced keys to the join secret (keyed by joinKey). */
export function helloProof(joinKeyB64: string, deviceId: string, signPublicKey: string, sealPublicKey: string): string {
  return createHmac('sha256', Buffer.from(joinKeyB64, 'base64url')).update(canonicalJson({ deviceId, signPublicKey, sealPublicKey })).digest('base64url');
}

export function checkHelloProof(joinKeyB64: string, deviceId: string, signPublicKey: string, sealPublicKey: string, proof: string): boolean {
  const want = Buffer.from(helloProof(joinKeyB64, deviceId, signPublicKey, sealPublicKey), 'base64url');
  const got = Buffer.from(proof, 'base64url');
  return got.length === want.length && timingSafeEqual(got, want);
}
