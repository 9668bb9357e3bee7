/**
 * Everything from the gateway passes here before it can touch the register or the relay: the
 * topic must be one of this device's down topics, the envelope signed by the pinned gateway key,
 * addressed to this device, unexpired and above the last accepted sequence, and the body must
 * match the contract schema of its kind.
 */
import type { KeyObject } from 'node:crypto';
import { bodySchemas, downKinds, type DownBody, type DownKind, GATEWAY, parseTopic } from '../../core/sync/contract.ts';
import { type Envelope, keyId, type RejectReason, verifyEnvelope } from '../../core/sync/envelope.ts';
import { importPublicKey } from '../../core/sync/keys.ts';

/** Envelope reasons plus the device's own checks. */
export type SyncRejectReason = RejectReason | 'bad_topic' | 'invalid_body' | 'unsealable';

export type DownMessage = { [K in DownKind]: { kind: K; envelope: Envelope<DownBody<K>>; body: DownBody<K> } }[DownKind];

export type DownVerdict = ({ ok: true } & DownMessage) | { ok: false; reason: SyncRejectReason; kind: string | null; message: string };

export interface DownVerifierOptions {
  deviceId: string;
  /** Pinned gateway Ed25519 key, base64url raw. */
  gatewaySignPublicKey: string;
  skewMs: number;
  now: () => number;
}

export class DownVerifier {
  private readonly key: KeyObject;
  private readonly kid: string;

  constructor(private readonly o: DownVerifierOptions) {
    this.key = importPublicKey(o.gatewaySignPublicKey, 'Ed25519');
    this.kid = keyId(o.gatewaySignPublicKey);
  }

  /** Never throws. `afterSeq` is the last accepted gateway sequence. */
  verify(topic: string, payload: Uint8Array, afterSeq: number): DownVerdict {
    const t = parseTopic(topic);
    if (!t || t.scope !== 'down' || t.deviceId !== this.o.deviceId || !(downKinds as readonly string[]).includes(t.kind)) {
      return { ok: false, reason: 'bad_topic', kind: null, message: `unexpected topic ${topic}` };
    }
    const kind = t.kind;
    const v = verifyEnvelope(payload, {
      type: kind,
      from: GATEWAY,
      to: this.o.deviceId,
      publicKey: this.key,
      kid: this.kid,
      afterSeq,
      now: this.o.now(),
      skewMs: this.o.skewMs,
    });
    if (!v.ok) return { ok: false, reason: v.reason, kind, message: v.message };
    const parsed = bodySchemas.down[kind].safeParse(v.envelope.body);
    if (!parsed.success) {
      const message = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; ');
      return { ok: false, reason: 'invalid_body', kind, message };
    }
    return { ok: true, kind, envelope: v.envelope, body: parsed.data } as DownVerdict;
  }
}
