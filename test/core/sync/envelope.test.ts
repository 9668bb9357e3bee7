import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../core/sync/canonical.ts';
import { keyId, SequenceSource, signEnvelope, verifyEnvelope } from '../../../core/sync/envelope.ts';
import { generateKeySet } from '../../../core/sync/keys.ts';

const gw = generateKeySet();
const other = generateKeySet();
const kid = keyId(gw.sign.publicKey);
const T0 = 1_800_000_000_000;
const make = (o: Partial<{ seq: number; to: string; key: typeof gw; now: number; ttlMs: number; body: unknown }> = {}) =>
  JSON.stringify(
    signEnvelope({ type: 'command', from: 'gateway', to: o.to ?? 'door-a', seq: o.seq ?? 10, body: o.body ?? { tid: 't1', command: 'unlock' }, privateKey: (o.key ?? gw).sign.privateKey, kid: keyId((o.key ?? gw).sign.publicKey), ttlMs: o.ttlMs ?? 30_000, now: o.now ?? T0 }),
  );
const check = (raw: string, afterSeq = 5, now = T0 + 1000) => verifyEnvelope(raw, { type: 'command', from: 'gateway', to: 'door-a', publicKey: gw.sign.publicKey, kid, afterSeq, now });

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined })).toBe('{"a":{"c":true,"d":[1,"x",null]},"b":1}');
  });
  it('refuses values JSON would silently change', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow();
    expect(() => canonicalJson({ a: () => 1 })).toThrow();
  });
});

describe('signed envelopes', () => {
  it('accepts a message signed by the pinned key, in time, with a fresh sequence', () => {
    const r = check(make());
    expect(r.ok).toBe(true);
  });
  it('rejects unsigned, tampered, foreign-key, replayed, expired and misaddressed messages with their reason', () => {
    const good = JSON.parse(make());
    const { sig: _sig, ...unsigned } = good;
    expect(check(JSON.stringify(unsigned))).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(check(JSON.stringify({ ...good, body: { tid: 't1', command: 'unlock', extra: 1 } }))).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(check(JSON.stringify({ ...good, seq: 99 }))).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(check(make({ key: other }))).toMatchObject({ ok: false, reason: 'wrong_key' });
    // Signed by another key but claiming the pinned key id: the signature check catches it.
    expect(check(JSON.stringify({ ...JSON.parse(make({ key: other })), kid }))).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(check(make({ seq: 5 }))).toMatchObject({ ok: false, reason: 'replayed' });
    expect(check(make(), 5, T0 + 31_000)).toMatchObject({ ok: false, reason: 'expired' });
    expect(check(make({ to: 'door-b' }))).toMatchObject({ ok: false, reason: 'not_for_me' });
    expect(check('not json')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(check(make({ now: T0 + 3_600_000 }))).toMatchObject({ ok: false, reason: 'expired' });
  });
});

describe('SequenceSource', () => {
  it('is strictly increasing even when the clock stands still or steps back', () => {
    let t = 1000;
    const s = new SequenceSource(0, () => t);
    const a = s.next();
    const b = s.next();
    t = 500;
    const c = s.next();
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    expect(new SequenceSource(c).next()).toBeGreaterThan(c);
  });
});
