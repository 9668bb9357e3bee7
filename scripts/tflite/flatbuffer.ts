/**
 * Just enough of the FlatBuffers wire format to read a .tflite file without the flatbuffers
 * package: tables through their vtables, scalars, strings, vectors of scalars and of tables.
 * Every offset is bounds-checked, so a truncated or hostile file fails with a message instead of
 * reading garbage.
 */

export class FlatBufferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlatBufferError';
  }
}

/** A table: its position in the buffer and the vtable that says where each field lives. */
export class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    readonly buf: Buffer,
    readonly pos: number,
  ) {
    check(buf, pos, 4, 'table');
    this.vtable = pos - buf.readInt32LE(pos);
    check(buf, this.vtable, 4, 'vtable');
    this.vtableSize = buf.readUInt16LE(this.vtable);
    check(buf, this.vtable, this.vtableSize, 'vtable');
  }

  /** Byte offset of field `index` inside the table, 0 when the field is absent (default value). */
  private field(index: number): number {
    const slot = 4 + 2 * index;
    return slot + 2 <= this.vtableSize ? this.buf.readUInt16LE(this.vtable + slot) : 0;
  }

  has(index: number): boolean {
    return this.field(index) !== 0;
  }

  private scalar<T>(index: number, size: number, dflt: T, read: (at: number) => T): T {
    const off = this.field(index);
    if (!off) return dflt;
    check(this.buf, this.pos + off, size, `field ${index}`);
    return read(this.pos + off);
  }

  int8(index: number, dflt = 0): number {
    return this.scalar(index, 1, dflt, (at) => this.buf.readInt8(at));
  }
  uint8(index: number, dflt = 0): number {
    return this.scalar(index, 1, dflt, (at) => this.buf.readUInt8(at));
  }
  int32(index: number, dflt = 0): number {
    return this.scalar(index, 4, dflt, (at) => this.buf.readInt32LE(at));
  }
  uint32(index: number, dflt = 0): number {
    return this.scalar(index, 4, dflt, (at) => this.buf.readUInt32LE(at));
  }
  uint64(index: number, dflt = 0n): bigint {
    return this.scalar(index, 8, dflt, (at) => this.buf.readBigUInt64LE(at));
  }
  float32(index: number, dflt = 0): number {
    return this.scalar(index, 4, dflt, (at) => this.buf.readFloatLE(at));
  }

  /** Position a uoffset field points at, or undefined when the field is absent. */
  private indirect(index: number): number | undefined {
    const off = this.field(index);
    if (!off) return undefined;
    const at = this.pos + off;
    check(this.buf, at, 4, `field ${index}`);
    return at + this.buf.readUInt32LE(at);
  }

  table(index: number): Table | undefined {
    const at = this.indirect(index);
    return at === undefined ? undefined : new Table(this.buf, at);
  }

  string(index: number): string | undefined {
    const v = this.vectorBytes(index, 1);
    return v ? v.toString('utf8') : undefined;
  }

  /** Raw bytes of a vector of `elemSize`-byte scalars (a view, no copy). */
  vectorBytes(index: number, elemSize: number): Buffer | undefined {
    const at = this.indirect(index);
    if (at === undefined) return undefined;
    check(this.buf, at, 4, `vector ${index}`);
    const n = this.buf.readUInt32LE(at);
    check(this.buf, at + 4, n * elemSize, `vector ${index}`);
    return this.buf.subarray(at + 4, at + 4 + n * elemSize);
  }

  int32s(index: number): number[] {
    const b = this.vectorBytes(index, 4);
    if (!b) return [];
    const out: number[] = [];
    for (let i = 0; i < b.length; i += 4) out.push(b.readInt32LE(i));
    return out;
  }

  tables(index: number): Table[] {
    const at = this.indirect(index);
    if (at === undefined) return [];
    check(this.buf, at, 4, `vector ${index}`);
    const n = this.buf.readUInt32LE(at);
    check(this.buf, at + 4, n * 4, `vector ${index}`);
    const out: Table[] = [];
    for (let i = 0; i < n; i++) {
      const el = at + 4 + i * 4;
      out.push(new Table(this.buf, el + this.buf.readUInt32LE(el)));
    }
    return out;
  }
}

function check(buf: Buffer, at: number, len: number, what: string): void {
  if (at < 0 || len < 0 || at + len > buf.length) throw new FlatBufferError(`${what} at byte ${at} (+${len}) lies outside the ${buf.length}-byte buffer`);
}

/** The root table, after checking the 4-byte file identifier when one is expected. */
export function rootTable(buf: Buffer, identifier?: string): Table {
  check(buf, 0, 8, 'header');
  if (identifier !== undefined) {
    const id = buf.subarray(4, 8).toString('latin1');
    if (id !== identifier) throw new FlatBufferError(`file identifier is '${id}', expected '${identifier}'`);
  }
  return new Table(buf, buf.readUInt32LE(0));
}
