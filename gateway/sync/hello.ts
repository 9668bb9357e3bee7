/**
 * A device's first `hello`: the keys it announces are pinned when the message is signed by the
 * announced signing key (possession) and carries the HMAC proof keyed by the join secret's
 * digest (it is the provisioned device). After that, a hello with the same keys is a no-op and
 * one with other keys is refused: changing keys takes a new provisioning.
 */
import { checkHelloProof } from '../../core/sync/bundle.ts';
import { bodySchemas, GATEWAY, type UpBody } from '../../core/sync/contract.ts';
import { keyId, verifyEnvelope, type RejectReason } from '../../core/sync/envelope.ts';
import { importPublicKey } from '../../core/sync/keys.ts';
import type { DeviceRecord } from '../store/types.ts';

export type HelloVerdict =
  | { kind: 'pin'; hello: UpBody<'hello'> }
  | { kind: 'known' }
  | { kind: 'reject'; reason: RejectReason; message: string };

export function checkHello(device: DeviceRecord, payload: Buffer, now: number): HelloVerdict {
  const reject = (reason: RejectReason, message: string): HelloVerdict => ({ kind: 'reject', reason, message });
  let hello: UpBody<'hello'>;
  try {
    const p = bodySchemas.up.hello.safeParse(JSON.parse(payload.toString())?.body);
    if (!p.success) return reject('malformed', 'hello body invalid');
    hello = p.data;
  } catch {
    return reject('malformed', 'hello is not JSON');
  }
  let pub;
  try {
    pub = importPublicKey(hello.signPublicKey, 'Ed25519');
    importPublicKey(hello.sealPublicKey, 'X25519');
  } catch (err) {
    return reject('malformed', (err as Error).message);
  }
  const v = verifyEnvelope(payload, { type: 'hello', from: device.id, to: GATEWAY, publicKey: pub, kid: keyId(hello.signPublicKey), now });
  if (!v.ok) return reject(v.reason, v.message);
  if (device.signPublicKey) {
    if (device.signPublicKey === hello.signPublicKey && device.sealPublicKey === hello.sealPublicKey) return { kind: 'known' };
    return reject('wrong_key', 'device announced different keys than the pinned ones; reprovision it to change keys');
  }
  if (!device.joinSecretHash || !checkHelloProof(device.joinSecretHash, device.id, hello.signPublicKey, hello.sealPublicKey, hello.proof)) {
    return reject('bad_signature', 'join proof does not match the provisioning secret');
  }
  return { kind: 'pin', hello };
}
