import { describe, expect, it } from 'vitest';
import { createPacketGuard } from '../../../gateway/broker/packet-limit.ts';

/** Remaining Length as an MQTT variable byte integer (§2.2.3). */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
/** A packet of the given type with a body of `bodyBytes` filler bytes (the guard reads headers only). */
const packet = (type: number, bodyBytes: number, flags = 0) => Buffer.concat([Buffer.from([(type << 4) | flags, ...varint(bodyBytes)]), Buffer.alloc(bodyBytes, 0x5a)]);
const connectPacket = (bodyBytes = 40) => packet(1, bodyBytes);
const publishPacket = (bodyBytes: number) => packet(3, bodyBytes);
const ping = () => packet(12, 0);

/** Feeds `data` to the guard in chunks of `size` bytes; the first refusal, or null. */
function feed(guard: ReturnType<typeof createPacketGuard>, data: Buffer, size: number): string | null {
  for (let i = 0; i < data.length; i += size) {
    const why = guard.push(data.subarray(i, i + size));
    if (why) return why;
  }
  return null;
}

describe('packet guard', () => {
  const limits = { max: 10_000, beforeLogin: 1000 };

  it('follows packet boundaries whatever the chunking, headers split across chunks included', () => {
    expect(varint(200_000_000)).toEqual([0x80, 0x84, 0xaf, 0x5f]);
    // 127/128 and 16383/16384 are where the Remaining Length grows a byte.
    const stream = Buffer.concat([connectPacket(), ping(), publishPacket(127), publishPacket(128), ping(), publishPacket(16_383), publishPacket(16_384), publishPacket(300)]);
    const open = { max: 20_000, beforeLogin: 20_000 };
    for (const size of [1, 2, 3, 7, 64, 5000, stream.length]) expect(feed(createPacketGuard(open), stream, size), `chunks of ${size}`).toBeNull();
    // Misreading one boundary would take body bytes (0x5a = type 5) for a header sooner or later.
    const tight = createPacketGuard({ max: 16_384 + 4, beforeLogin: 16_384 + 4 });
    expect(feed(tight, Buffer.concat([stream, publishPacket(16_385)]), 3)).toMatch(/16389 bytes exceeds/);
  });

  it('refuses a first packet that is not CONNECT', () => {
    expect(createPacketGuard(limits).push(ping())).toMatch(/not CONNECT/);
    expect(createPacketGuard(limits).push(publishPacket(10))).toMatch(/not CONNECT/);
  });

  it('refuses a packet over the limit from its header alone, before its body arrives', () => {
    // A CONNECT announcing 200 MB: the 5 header bytes are enough.
    const header = Buffer.from([0x10, ...varint(200_000_000)]);
    expect(createPacketGuard(limits).push(header.subarray(0, 4))).toBeNull();
    const g = createPacketGuard(limits);
    g.push(header.subarray(0, 2));
    expect(g.push(header.subarray(2))).toMatch(/exceeds the limit of 1000 bytes before login/);
    // And stays refused.
    expect(g.push(ping())).toMatch(/exceeds/);
  });

  it('applies the small limit until login and the large one after', () => {
    const big = publishPacket(5000);
    const before = createPacketGuard(limits);
    expect(before.push(connectPacket())).toBeNull();
    expect(before.push(big)).toMatch(/before login/);
    const after = createPacketGuard(limits);
    expect(after.push(connectPacket())).toBeNull();
    after.loggedIn();
    expect(after.push(big)).toBeNull();
    expect(after.push(publishPacket(10_001))).toMatch(/exceeds the limit of 10000 bytes$/);
    // A CONNECT with a large will is refused before login even though it is under `max`.
    expect(createPacketGuard(limits).push(connectPacket(2000))).toMatch(/before login/);
  });

  it('counts the whole packet, header included, against the limit', () => {
    const p = publishPacket(100);
    const exact = createPacketGuard({ max: p.length, beforeLogin: 1000 });
    exact.push(connectPacket());
    exact.loggedIn();
    expect(exact.push(p)).toBeNull();
    const short = createPacketGuard({ max: p.length - 1, beforeLogin: 1000 });
    short.push(connectPacket());
    short.loggedIn();
    expect(short.push(p)).toMatch(/exceeds/);
  });

  it('refuses a Remaining Length longer than 4 bytes', () => {
    const g = createPacketGuard({ max: 1e9, beforeLogin: 1e9 });
    expect(g.push(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toMatch(/malformed/);
  });
});
