/**
 * Thrift's compact protocol, read back without a schema: a struct becomes
 * a map from field id to value, with binaries kept as bytes and i64 as
 * bigint. Enough to read a Parquet footer field by field and carry its
 * values over exactly (statistics are bytes, and stay bytes).
 */

export type ThriftRead = bigint | number | boolean | Uint8Array | ThriftFields | ThriftRead[];
export type ThriftFields = Map<number, ThriftRead>;

const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

class Reader {
  pos: number;
  private readonly buf: Uint8Array;
  constructor(buf: Uint8Array, pos: number) {
    this.buf = buf;
    this.pos = pos;
  }
  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error(`thrift: truncated at byte ${this.pos}`);
    return this.buf[this.pos++]!;
  }
  private varint(): bigint {
    let shift = 0n;
    let out = 0n;
    for (;;) {
      const b = this.byte();
      out |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return out;
      shift += 7n;
      if (shift > 70n) throw new Error(`thrift: varint too long at byte ${this.pos}`);
    }
  }
  private zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }
  private value(type: number): ThriftRead {
    switch (type) {
      case T.TRUE:
        return true;
      case T.FALSE:
        return false;
      case T.BYTE:
        return (this.byte() << 24) >> 24;
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
        this.pos += 8;
        return view.getFloat64(0, true);
      }
      case T.BINARY: {
        const n = Number(this.varint());
        if (this.pos + n > this.buf.length) throw new Error(`thrift: binary of ${n} bytes runs past the end at byte ${this.pos}`);
        const out = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case T.LIST:
      case T.SET: {
        const head = this.byte();
        const n = head >> 4 === 0xf ? Number(this.varint()) : head >> 4;
        const elem = head & 0x0f;
        const out: ThriftRead[] = [];
        // A bool element is a byte of its own in a list (1 true, anything else false).
        for (let i = 0; i < n; i++) out.push(elem === T.TRUE || elem === T.FALSE ? this.byte() === 1 : this.value(elem));
        return out;
      }
      case T.MAP: {
        const n = Number(this.varint());
        if (n === 0) return [];
        const types = this.byte();
        const out: ThriftRead[] = [];
        for (let i = 0; i < n; i++) out.push([this.value(types >> 4), this.value(types & 0x0f)]);
        return out;
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift: unknown type ${type} at byte ${this.pos - 1}`);
    }
  }
  struct(): ThriftFields {
    const fields: ThriftFields = new Map();
    let last = 0;
    for (;;) {
      const head = this.byte();
      if (head === 0) return fields;
      const delta = head >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      fields.set(id, this.value(head & 0x0f));
      last = id;
    }
  }
}

/** Decodes one struct starting at `offset`; returns its fields and the offset just past it. */
export function readThriftStruct(bytes: Uint8Array, offset = 0): { fields: ThriftFields; end: number } {
  const reader = new Reader(bytes, offset);
  const fields = reader.struct();
  return { fields, end: reader.pos };
}
