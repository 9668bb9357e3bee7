import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHelloProof, decodeBundle, encodeBundle, helloProof, joinKey } from '../../../core/sync/bundle.ts';
import { generateKeySet, loadOrCreateKeySet, publicKeys, readKeySetFile } from '../../../core/sync/keys.ts';
import { openEmbedding, sealEmbedding } from '../../../core/sync/seal.ts';

const device = generateKeySet();
const pub = publicKeys(device);
const emb = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));

describe('sealed templates', () => {
  it('open only with the recipient key, for the same device and person', () => {
    const box = sealEmbedding(pub.sealPublicKey, 'door-a', 'p1', emb);
    expect(openEmbedding(device.seal.privateKey, 'door-a', 'p1', box)).toEqual(emb);
    expect(() => openEmbedding(generateKeySet().seal.privateKey, 'door-a', 'p1', box)).toThrow(/cannot be opened/);
    expect(() => openEmbedding(device.seal.privateKey, 'door-a', 'p2', box)).toThrow(/cannot be opened/);
    expect(() => openEmbedding(device.seal.privateKey, 'door-b', 'p1', box)).toThrow(/cannot be opened/);
    const flipped = Buffer.from(box.ct, 'base64url');
    flipped[3] ^= 1;
    expect(() => openEmbedding(device.seal.privateKey, 'door-a', 'p1', { ...box, ct: flipped.toString('base64url') })).toThrow();
  });
  it('never carries the embedding bytes in clear, and two seals of one template differ', () => {
    const a = sealEmbedding(pub.sealPublicKey, 'door-a', 'p1', emb);
    const b = sealEmbedding(pub.sealPublicKey, 'door-a', 'p1', emb);
    expect(a.ct).not.toBe(b.ct);
    const ct = Buffer.from(a.ct, 'base64url');
    expect(ct.includes(Buffer.from(emb.buffer).subarray(0, 16))).toBe(false);
  });
});

describe('key files and bundles', () => {
  it('writes key sets 0600 and reads them back', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'portier-keys-')), 'k.pem');
    const { keys, created } = loadOrCreateKeySet(file);
    expect(created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(publicKeys(readKeySetFile(file))).toEqual(publicKeys(keys));
    expect(loadOrCreateKeySet(file).created).toBe(false);
  });
  it('round-trips a bundle and binds the hello proof to the keys', () => {
    const b = { v: 1 as const, deviceId: 'door-a', broker: { url: 'mqtt://gw:1883', username: 'door-a', password: 'pw-123456' }, gateway: { signPublicKey: pub.signPublicKey, sealPublicKey: pub.sealPublicKey }, joinSecret: 'x'.repeat(32) };
    expect(decodeBundle(encodeBundle(b))).toEqual(b);
    expect(() => decodeBundle('garbage')).toThrow(/not a Portier/);
    const k = joinKey(b.joinSecret);
    const proof = helloProof(k, 'door-a', pub.signPublicKey, pub.sealPublicKey);
    expect(checkHelloProof(k, 'door-a', pub.signPublicKey, pub.sealPublicKey, proof)).toBe(true);
    expect(checkHelloProof(k, 'door-b', pub.signPublicKey, pub.sealPublicKey, proof)).toBe(false);
    expect(checkHelloProof(joinKey('y'.repeat(32)), 'door-a', pub.signPublicKey, pub.sealPublicKey, proof)).toBe(false);
  });
});
