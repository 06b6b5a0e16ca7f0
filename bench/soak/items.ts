import type { AttributeValue, Item } from '../../src/flatten/attribute-value.ts';
import { below, between, mix, random, type Random } from './random.ts';

/**
 * The soak's item images. An image is a pure function of (seed, key,
 * version), so nothing needs to keep it: the workload regenerates a key's
 * previous image for OldImage, and the redrive stream server regenerates
 * whole records. Shapes cover what the pipeline must carry losslessly:
 * lists of maps of varying size (empty, one, dozens), nested maps and
 * lists, sets of each kind, 38-digit and tiny numbers, binary, BOOL and
 * NULL, an exploded attribute that is missing, a map or a scalar, and, at
 * a small rate and in bulk imports, items near DynamoDB's 400 KB limit.
 */

export interface Image {
  readonly item: Item;
  /** About the image's length as DynamoDB JSON, for the 6 MB payload limit (cheaper than stringifying). */
  readonly bytes: number;
}

export const EXPLODE = 'items';
export const CARRY = 'customer_id';

/** Item k's key: two items (sort keys) per partition key, so a batch can hold both items of one pk. */
export function keyNames(k: number): { pk: string; sk: string } {
  const p = Math.floor(k / 2);
  // A few partition keys outside ASCII: they are column values and must come back byte for byte.
  return { pk: p % 97 === 0 ? `C${p}-ü水🙂` : `C${p}`, sk: `ORDER#${k % 2}` };
}

/** The partition key index of item k: DynamoDB puts all items of one pk in one shard. */
export function partitionIndex(k: number): number {
  return Math.floor(k / 2);
}

export function keyAttributes(k: number): Item {
  const { pk, sk } = keyNames(k);
  return { pk: { S: pk }, sk: { S: sk } };
}

/** Counts about the JSON length of what it builds. */
class Builder {
  bytes = 0;
  readonly rnd: Random;
  constructor(rnd: Random) {
    this.rnd = rnd;
  }
  S(text: string): AttributeValue {
    this.bytes += text.length + 10;
    return { S: text };
  }
  N(text: string): AttributeValue {
    this.bytes += text.length + 10;
    return { N: text };
  }
  B(bytes: number): AttributeValue {
    const b64 = Buffer.from(Array.from({ length: bytes }, () => below(this.rnd, 256))).toString('base64');
    this.bytes += b64.length + 10;
    return { B: b64 };
  }
  M(fields: Record<string, AttributeValue>): AttributeValue {
    for (const name of Object.keys(fields)) this.bytes += name.length + 4;
    this.bytes += 8;
    return { M: fields };
  }
  L(values: AttributeValue[]): AttributeValue {
    this.bytes += 8 + values.length;
    return { L: values };
  }
  BOOL(value: boolean): AttributeValue {
    this.bytes += 16;
    return { BOOL: value };
  }
  NULL(): AttributeValue {
    this.bytes += 16;
    return { NULL: true };
  }
  set(type: 'SS' | 'NS' | 'BS', members: string[]): AttributeValue {
    this.bytes += 10 + members.reduce((n, m) => n + m.length + 3, 0);
    return { [type]: members } as AttributeValue;
  }
}

/** 38 significant digits: the most DynamoDB keeps, and more than a double can. */
export function digits38(rnd: Random): string {
  let s = String(between(rnd, 1, 9));
  while (s.length < 38) s += String(below(rnd, 10));
  return s;
}

function uniqueMembers(rnd: Random, n: number, make: (i: number) => string): string[] {
  return [...new Set(Array.from({ length: n }, (_, i) => make(i)))];
}

function element(b: Builder, k: number, j: number): AttributeValue {
  const r = b.rnd;
  if (r() < 0.03) return r() < 0.5 ? b.S(`note-${k}-${j}`) : b.N(digits38(r)); // a list element that is a leaf
  const fields: Record<string, AttributeValue> = {
    sku: b.S(`SKU-${below(r, 5000)}`),
    qty: b.N(String(between(r, 1, 40))),
    price: b.N(`${below(r, 1000)}.${String(below(r, 100)).padStart(2, '0')}`),
  };
  const x = r();
  if (x < 0.2) fields.big = b.N(r() < 0.5 ? digits38(r) : `-${digits38(r).slice(0, 20)}.${digits38(r).slice(0, 18)}`);
  if (r() < 0.05) fields.tiny = b.N(`0.${'0'.repeat(between(r, 10, 90))}${digits38(r)}`);
  if (r() < 0.15) fields.tags = b.set('SS', uniqueMembers(r, between(r, 1, 4), () => `t${below(r, 50)}`));
  if (r() < 0.1) fields.nums = b.set('NS', uniqueMembers(r, between(r, 1, 3), (i) => (i === 0 ? digits38(r) : String(below(r, 1000)))));
  if (r() < 0.05) fields.bin = b.B(between(r, 0, 24));
  if (r() < 0.03) fields.bins = b.set('BS', uniqueMembers(r, between(r, 1, 3), () => Buffer.from([below(r, 256), below(r, 256)]).toString('base64')));
  if (r() < 0.3) fields.gift = b.BOOL(r() < 0.5);
  if (r() < 0.05) fields.discount = b.NULL();
  if (r() < 0.1) fields.ship = b.M({ geo: b.M({ lat: b.N(`${below(r, 90)}.${below(r, 1e6)}`), path: b.L([b.S('a.b'), b.N('0')]) }) });
  if (r() < 0.05) fields[r() < 0.5 ? 'none' : 'empty'] = r() < 0.5 ? b.L([]) : b.M({});
  return b.M(fields);
}

/** ~390 KB in four strings: with the keys and names, just under the 400 KB item limit. */
function nearLimit(b: Builder, rnd: Random): AttributeValue {
  const chunk = (): string => {
    const bytes = Buffer.allocUnsafe(73_000);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE(mix(rnd() * 2 ** 32, i), i);
    return bytes.toString('base64'); // 97,336 characters
  };
  return b.L(Array.from({ length: 4 }, (_, j) => b.M({ part: b.N(String(j)), blob: b.S(chunk()) })));
}

export interface ImageOptions {
  /** Whether this version is near 400 KB (the workload decides and remembers it). */
  readonly big: boolean;
}

/** Item k at version v. */
export function itemImage(seed: number, k: number, v: number, options: ImageOptions): Image {
  const rnd = random(seed, 0x17e5, k, v);
  const b = new Builder(rnd);
  const { pk, sk } = keyNames(k);
  const item: Item = { pk: b.S(pk), sk: b.S(sk), [CARRY]: b.S(`CUST-${k % 1000}`), status: b.S(v % 3 === 0 ? 'new' : 'shipped') };
  const x = rnd();
  if (options.big) item[EXPLODE] = nearLimit(b, rnd);
  else if (x < 0.04) {
    // the exploded attribute is missing: an ABSENT row, nothing in the current view
  } else if (x < 0.08) item[EXPLODE] = b.L([]);
  else if (x < 0.1) item[EXPLODE] = b.M({ only: b.S(`map-${v}`), n: b.N(digits38(rnd)) });
  else if (x < 0.11) item[EXPLODE] = b.S(`scalar-${v}`);
  else {
    const n = rnd() < 0.02 ? between(rnd, 15, 40) : between(rnd, 1, 4);
    item[EXPLODE] = b.L(Array.from({ length: n }, (_, j) => element(b, k, j)));
  }
  return { item, bytes: b.bytes };
}

/** The kinds of record the handler must quarantine (see test/handler.test.ts). */
export const POISON_KINDS = ['unknown type descriptor', 'number over 38 digits', 'not an AttributeValue'] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

/** Which way a poison record of item k's would-be version v is malformed. */
export function poisonKind(seed: number, k: number, v: number): PoisonKind {
  return POISON_KINDS[mix(seed, k, v) % POISON_KINDS.length]!;
}

/** Item k's would-be version v, made malformed in one of the ways the engine rejects. */
export function poisonImage(seed: number, k: number, v: number, options: ImageOptions): Image & { kind: PoisonKind } {
  const { item, bytes } = itemImage(seed, k, v, { ...options, big: false });
  const kind = poisonKind(seed, k, v);
  const bad: unknown =
    kind === 'unknown type descriptor'
      ? { L: [{ M: { price: { Q: '1' } } }] }
      : kind === 'number over 38 digits'
        ? { L: [{ M: { price: { N: '9'.repeat(39) } } }] }
        : 'not an AttributeValue';
  return { item: { ...item, [EXPLODE]: bad as AttributeValue }, bytes: bytes + 40, kind };
}
