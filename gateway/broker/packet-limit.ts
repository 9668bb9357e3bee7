/**
 * A bound on the size of every MQTT packet a client sends, checked on the raw byte stream
 * before the broker's parser sees it. aedes 1.x (mqtt-packet 9) has no such limit: its parser
 * buffers a packet until the announced Remaining Length has arrived, so one CONNECT announcing
 * 200 MB, sent slowly by a client that never logs in, grows the heap by as much as it streams.
 *
 * The guard reads only fixed headers (MQTT 3.1.1 §2.2: one type byte, then the Remaining Length
 * as a variable byte integer of 1-4 bytes, §2.2.3) and skips the bodies, following packet
 * boundaries across chunks; it keeps a few counters, never the data. It refuses:
 * - a first packet that is not CONNECT (§3.1: the first packet from the client MUST be CONNECT);
 * - a packet larger than `beforeLogin` bytes until loggedIn() is called (the CONNACK), so a
 *   stranger cannot make the broker hold more than that;
 * - a packet larger than `max` bytes afterwards;
 * - a Remaining Length whose fourth byte still has the continuation bit (malformed).
 * Sizes count the whole packet: fixed header plus Remaining Length.
 */

export interface PacketLimits {
  /** Largest packet once the client is logged in. */
  max: number;
  /** Largest packet before loggedIn(), the first CONNECT included. */
  beforeLogin: number;
}

export interface PacketGuard {
  /** Inspects the next chunk of the client's stream; a string says why the connection must close. */
  push(chunk: Uint8Array): string | null;
  /** The client has been accepted: from now on `max` applies. */
  loggedIn(): void;
}

const CONNECT = 1;

export function createPacketGuard(limits: PacketLimits): PacketGuard {
  let authenticated = false;
  let packets = 0;
  let skip = 0; // body bytes of the current packet still to come
  let inHeader = false; // the type byte is read, the Remaining Length is not complete
  let type = 0;
  let length = 0;
  let lengthBytes = 0;
  let multiplier = 1;
  let failed: string | null = null;

  function headerDone(): string | null {
    const size = 1 + lengthBytes + length;
    const limit = authenticated ? limits.max : limits.beforeLogin;
    if (packets === 0 && type !== CONNECT) return `first packet is type ${type}, not CONNECT`;
    if (size > limit) return `packet of ${size} bytes exceeds the limit of ${limit} bytes${authenticated ? '' : ' before login'}`;
    packets++;
    skip = length;
    inHeader = false;
    return null;
  }

  return {
    push(chunk) {
      if (failed) return failed;
      let i = 0;
      while (i < chunk.length) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          skip -= n;
          i += n;
          continue;
        }
        const b = chunk[i++];
        if (!inHeader) {
          inHeader = true;
          type = b >> 4;
          length = 0;
          lengthBytes = 0;
          multiplier = 1;
          continue;
        }
        length += (b & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if (b & 0x80) {
          if (lengthBytes === 4) return (failed = 'malformed Remaining Length (more than 4 bytes)');
          continue;
        }
        const why = headerDone();
        if (why) return (failed = why);
      }
      return null;
    },
    loggedIn() {
      authenticated = true;
    },
  };
}
