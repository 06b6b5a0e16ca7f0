/**
 * Just enough of Thrift's compact protocol to write Parquet page headers
 * and the file footer. Structs are described as arrays of [fieldId, value]
 * pairs with explicit types, so encoding is a straight loop with no schema
 * reflection.
 */

export const CompactType = { TRUE: 1, FALSE: 2, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;
type CompactTypeCode = (typeof CompactType)[keyof typeof CompactType];

export type ThriftValue =
  | { t: 'i32'; v: number }
  | { t: 'i64'; v: number | bigint }
  | { t: 'bool'; v: boolean }
  | { t: 'binary'; v: string | Uint8Array }
  | { t: 'struct'; v: ThriftStruct }
  | { t: 'list'; elem: 'i32' | 'binary' | 'struct'; v: readonly (number | string | ThriftStruct)[] };

/** Fields in ascending id order; undefined entries are skipped (optional fields). */
export type ThriftStruct = readonly (readonly [number, ThriftValue] | undefined)[];

export const i32 = (v: number): ThriftValue => ({ t: 'i32', v });
export const i64 = (v: number | bigint): ThriftValue => ({ t: 'i64', v });
export const bool = (v: boolean): ThriftValue => ({ t: 'bool', v });
export const binary = (v: string | Uint8Array): ThriftValue => ({ t: 'binary', v });
export const struct = (v: ThriftStruct): ThriftValue => ({ t: 'struct', v });
export const list = (elem: 'i32' | 'binary' | 'struct', v: readonly (number | string | ThriftStruct)[]): ThriftValue => ({ t: 'list', elem, v });

export class ThriftWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  private varint(n: bigint): void {
    this.ensure(10);
    let v = n;
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  private varint32(n: number): void {
    this.ensure(5);
    let v = n >>> 0;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  private zigzag32(n: number): void {
    this.varint32((n << 1) ^ (n >> 31));
  }

  private zigzag64(n: number | bigint): void {
    const v = BigInt(n);
    this.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }

  private binary(v: string | Uint8Array): void {
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.varint32(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  struct(fields: ThriftStruct): void {
    let last = 0;
    for (const field of fields) {
      if (!field) continue;
      const [id, value] = field;
      const type = value.t === 'bool' ? (value.v ? CompactType.TRUE : CompactType.FALSE) : typeCode(value.t);
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag32(id);
      }
      last = id;
      this.value(value);
    }
    this.byte(0);
  }

  private value(value: ThriftValue): void {
    switch (value.t) {
      case 'i32':
        this.zigzag32(value.v);
        return;
      case 'i64':
        this.zigzag64(value.v);
        return;
      case 'bool':
        return; // carried in the field header
      case 'binary':
        this.binary(value.v);
        return;
      case 'struct':
        this.struct(value.v);
        return;
      case 'list': {
        const elemType = typeCode(value.elem);
        const n = value.v.length;
        if (n < 15) this.byte((n << 4) | elemType);
        else {
          this.byte(0xf0 | elemType);
          this.varint32(n);
        }
        for (const e of value.v) {
          if (value.elem === 'i32') this.zigzag32(e as number);
          else if (value.elem === 'binary') this.binary(e as string);
          else this.struct(e as ThriftStruct);
        }
      }
    }
  }
}

function typeCode(t: 'i32' | 'i64' | 'binary' | 'struct' | 'list'): CompactTypeCode {
  switch (t) {
    case 'i32':
      return CompactType.I32;
    case 'i64':
      return CompactType.I64;
    case 'binary':
      return CompactType.BINARY;
    case 'struct':
      return CompactType.STRUCT;
    case 'list':
      return CompactType.LIST;
  }
}

export function encodeStruct(fields: ThriftStruct): Buffer {
  const w = new ThriftWriter();
  w.struct(fields);
  return w.bytes();
}
