/** Pinning a device's keys from its first hello: possession, join proof, and no later key swap. */
import { describe, expect, it } from 'vitest';
import { helloProof, joinKey } from '../../../core/sync/bundle.ts';
import { GATEWAY } from '../../../core/sync/contract.ts';
import { keyId, signEnvelope } from '../../../core/sync/envelope.ts';
import { generateKeySet, publicKeys, type KeySet } from '../../../core/sync/keys.ts';
import type { DeviceRecord } from '../../../gateway/store/types.ts';
import { checkHello } from '../../../gateway/sync/hello.ts';

const secret = 'join-secret-of-door-1-0123456789';
const device = (o: Partial<DeviceRecord> = {}): DeviceRecord => ({
  id: 'door-1', name: 'door-1', doorId: 'main', brokerPasswordHash: 'x', joinSecretHash: joinKey(secret), signPublicKey: null, sealPublicKey: null,
  downSeq: 0, cursor: null, lastSeen: null, status: null, online: false, snapshotRequired: true, createdAt: 0, ...o,
});
const hello = (announced: KeySet, signer: KeySet = announced, proofSecret = secret, from = 'door-1') => {
  const p = publicKeys(announced);
  const body = { ...p, proof: helloProof(joinKey(proofSecret), from, p.signPublicKey, p.sealPublicKey), software: 'test' };
  return Buffer.from(JSON.stringify(signEnvelope({ type: 'hello', from, to: GATEWAY, seq: 1, body, privateKey: signer.sign.privateKey, kid: keyId(announced.sign.publicKey), ttlMs: 60_000, now: 1000 })));
};

describe('gateway sync: hello', () => {
  const keys = generateKeySet();
  it('pins keys signed by the announced key and proved with the join secret', () => {
    const v = checkHello(device(), hello(keys), 2000);
    expect(v).toMatchObject({ kind: 'pin', hello: publicKeys(keys) });
  });
  it('refuses a wrong join secret, a signature by another key, and a hello naming another device', () => {
    expect(checkHello(device(), hello(keys, keys, 'another-secret-0123456789abcdef'), 2000)).toMatchObject({ kind: 'reject', reason: 'bad_signature' });
    expect(checkHello(device(), hello(keys, generateKeySet()), 2000)).toMatchObject({ kind: 'reject', reason: 'bad_signature' });
    expect(checkHello(device(), hello(keys, keys, secret, 'door-2'), 2000)).toMatchObject({ kind: 'reject', reason: 'not_for_me' });
    expect(checkHello(device({ joinSecretHash: null }), hello(keys), 2000)).toMatchObject({ kind: 'reject', reason: 'bad_signature' });
  });
  it('treats the same keys again as known, and refuses other keys once pinned', () => {
    const pinned = device({ ...publicKeys(keys), joinSecretHash: null });
    expect(checkHello(pinned, hello(keys), 2000)).toEqual({ kind: 'known' });
    expect(checkHello(pinned, hello(generateKeySet()), 2000)).toMatchObject({ kind: 'reject', reason: 'wrong_key' });
  });
});
