/**
 * Signed envelopes: every JSON message on the broker (except plain-text availability) is
 * `{ v, type, from, to, kid, seq, iat, exp, body, sig }`, signed with Ed25519 over the canonical
 * JSON of everything but `sig`. The receiver checks, in this order: shape, addressee, key id,
 * signature, expiry, sequence. Each failure has its own reason so logs, metrics and the
 * `security` audit event say what was attempted.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import { rawPublicKey } from './keys.ts';

export interface Envelope<B = unknown> {
  v: 1;
  type: string;
  from: string;
  to: string;
  /** Key id of the signer: first 16 hex chars of sha256(raw public key). */
  kid: string;
  /** Strictly increasing per sender and receiver; the receiver refuses anything not above its last. */
  seq: number;
  /** Issued at / expires at, ms since the epoch. */
  iat: number;
  exp: number;
  body: B;
  sig: string;
}

export type RejectReason = 'malformed' | 'unsigned' | 'wrong_key' | 'bad_signature' | 'not_for_me' | 'expired' | 'replayed';

export type VerifyResult<B> = { ok: true; envelope: Envelope<B> } | { ok: false; reason: RejectReason; message: string };

export function keyId(publicKey: KeyObject | string): string {
  const raw = typeof publicKey === 'string' ? publicKey : rawPublicKey(publicKey);
  return createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('hex').slice(0, 16);
}

export interface SignOptions<B> {
  type: string;
  from: string;
  to: string;
  seq: number;
  body: B;
  privateKey: KeyObject;
  /** Key id of the signer (keyId(publicKey)); computed once by the caller. */
  kid: string;
  ttlMs: number;
  now?: number;
}

export function signEnvelope<B>(o: SignOptions<B>): Envelope<B> {
  const iat = o.now ?? Date.now();
  const unsigned = { v: 1 as const, type: o.type, from: o.from, to: o.to, kid: o.kid, seq: o.seq, iat, exp: iat + o.ttlMs, body: o.body };
  const sig = sign(null, Buffer.from(canonicalJson(unsigned)), o.privateKey).toString('base64url');
  return { ...unsigned, sig };
}

export interface VerifyOptions {
  type: string;
  /** Expected sender ('gateway' or a device id). */
  from: string;
  /** This receiver's name. */
  to: string;
  publicKey: KeyObject;
  /** Key id of publicKey (keyId()). */
  kid: string;
  /** Highest sequence accepted so far from this sender; undefined = no replay check. */
  afterSeq?: number;
  now?: number;
  /** Tolerated clock difference for iat in the future. */
  skewMs?: number;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parse and verify raw bytes from the broker. Never throws. */
export function verifyEnvelope<B = unknown>(raw: Uint8Array | string, o: VerifyOptions): VerifyResult<B> {
  const fail = (reason: RejectReason, message: string): VerifyResult<B> => ({ ok: false, reason, message });
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch {
    return fail('malformed', 'payload is not JSON');
  }
  if (!e || typeof e !== 'object' || Array.isArray(e)) return fail('malformed', 'payload is not an object');
  if (e.sig === undefined) return fail('unsigned', 'message carries no signature');
  if (e.v !== 1 || typeof e.type !== 'string' || typeof e.from !== 'string' || typeof e.to !== 'string' || typeof e.kid !== 'string' || typeof e.sig !== 'string' || !isNum(e.seq) || !isNum(e.iat) || !isNum(e.exp) || !('body' in e)) {
    return fail('malformed', 'envelope fields missing or of the wrong type');
  }
  if (e.type !== o.type) return fail('malformed', `type ${e.type} on a ${o.type} topic`);
  if (e.to !== o.to || e.from !== o.from) return fail('not_for_me', `addressed from ${e.from} to ${e.to}, expected ${o.from} to ${o.to}`);
  if (e.kid !== o.kid) return fail('wrong_key', `signed by key ${e.kid}, pinned key is ${o.kid}`);
  const { sig, ...unsigned } = e;
  let good = false;
  try {
    good = verify(null, Buffer.from(canonicalJson(unsigned)), o.publicKey, Buffer.from(sig as string, 'base64url'));
  } catch {
    good = false;
  }
  if (!good) return fail('bad_signature', 'signature does not verify with the pinned key');
  const now = o.now ?? Date.now();
  if ((e.exp as number) <= now) return fail('expired', `expired ${now - (e.exp as number)} ms ago`);
  if ((e.iat as number) > now + (o.skewMs ?? 60_000)) return fail('expired', 'issued in the future (clock skew)');
  if (o.afterSeq !== undefined && (e.seq as number) <= o.afterSeq) return fail('replayed', `sequence ${e.seq} is not above ${o.afterSeq}`);
  return { ok: true, envelope: e as unknown as Envelope<B> };
}

/**
 * Sequence numbers that need no write per message: microseconds of wall time, or one more than
 * the last issued when the clock has not moved on. They only go backwards if the clock is set
 * back across a restart (run NTP; a device re-pins on re-provisioning).
 */
export class SequenceSource {
  private last: number;
  constructor(floor = 0, private readonly now: () => number = Date.now) {
    this.last = floor;
  }
  next(): number {
    this.last = Math.max(this.last + 1, this.now() * 1000);
    return this.last;
  }
  get current(): number {
    return this.last;
  }
}
