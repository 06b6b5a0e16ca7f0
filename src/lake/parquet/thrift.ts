import { ByteBuffer } from './byte-buffer.ts';

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
  | { t: 'list'; elem: 'i32' | 'binary' | 'struct'; v: readonly (number | string | ThriftStruct | EncodedStruct)[] };

/** A struct already encoded (encodeStruct), kept as bytes instead of as an object tree. */
export interface EncodedStruct {
  readonly encoded: Uint8Array;
}

/** Fields in ascending id order; undefined entries are skipped (optional fields). */
export type ThriftStruct = readonly (readonly [number, ThriftValue] | undefined)[];

export const i32 = (v: number): ThriftValue => ({ t: 'i32', v });
export const i64 = (v: number | bigint): ThriftValue => ({ t: 'i64', v });
export const bool = (v: boolean): ThriftValue => ({ t: 'bool', v });
export const binary = (v: string | Uint8Array): ThriftValue => ({ t: 'binary', v });
export const struct = (v: ThriftStruct): ThriftValue => ({ t: 'struct', v });
export const list = (elem: 'i32' | 'binary' | 'struct', v: readonly (number | string | ThriftStruct | EncodedStruct)[]): ThriftValue => ({ t: 'list', elem, v });

export class ThriftWriter {
  private readonly out = new ByteBuffer(256);

  bytes(): Buffer {
    return this.out.view();
  }

  private byte(b: number): void {
    this.out.u8(b);
  }

  private varint(n: bigint): void {
    this.out.ensure(10);
    const o = this.out;
    let v = n;
    while (v >= 0x80n) {
      o.buf[o.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    o.buf[o.pos++] = Number(v);
  }

  private varint32(n: number): void {
    this.out.varint(n);
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
    this.out.varint(bytes.length);
    this.out.bytes(bytes);
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
          else if ('encoded' in (e as object)) this.out.bytes((e as EncodedStruct).encoded);
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
