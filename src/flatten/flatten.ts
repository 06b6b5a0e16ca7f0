import type { EventName, ValueType } from '../schema/row-schema.ts';
import { SEQUENCE_WIDTH } from '../schema/row-schema.ts';
import {
  binaryToBase64,
  descriptorOf,
  describe,
  FlattenError,
  isNumberText,
  typeOf,
  type AttributeValue,
  type Binary,
  type Item,
} from './attribute-value.ts';
import { compareNumberText, compareText, numberLimitProblem } from './decimal.ts';
import { childIndexPath, childKeyPath } from './path.ts';
import type { RowBatch } from './row-batch.ts';

export interface FlattenConfig {
  /** Top-level attributes to explode into rows, e.g. ['items']. */
  readonly attributes: readonly string[];
  readonly partitionKey: string;
  /** Omit when the table has no sort key. */
  readonly sortKey?: string | undefined;
  /** Top-level attributes copied onto every row as columns of their own. */
  readonly carry: readonly string[];
}

/** Which version of an item the rows describe. */
export interface VersionStamp {
  readonly eventName: EventName;
  /** Epoch milliseconds, UTC. */
  readonly eventTime: number;
  /** Already padded to SEQUENCE_WIDTH digits (see padSequence). */
  readonly sequence: string;
}

/** Whether a value is a stream sequence number: a decimal of at most 40 digits. */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,40}$/.test(value);
}

/** Stream sequence numbers are 21-40 digit decimals; padding makes text order equal numeric order. */
export function padSequence(sequence: unknown, where = 'SequenceNumber'): string {
  if (!isSequenceNumber(sequence)) {
    throw new FlattenError(`expected a decimal sequence number of 1 to ${SEQUENCE_WIDTH} digits, got ${describe(sequence)}`, where);
  }
  return sequence.padStart(SEQUENCE_WIDTH, '0');
}

export const SNAPSHOT_SEQUENCE = '0'.repeat(SEQUENCE_WIDTH);

/** DynamoDB's item size limit: no single value can be larger, so one that is marks a malformed record. */
export const MAX_ITEM_BYTES = 400 * 1024;

const DAY_MS = 86_400_000;
let cachedDay = Number.NaN;
let cachedDate = '';

/** YYYY-MM-DD of an epoch-ms time, UTC. Cached per day: a batch rarely spans more than one. */
export function utcDate(epochMs: number): string {
  const day = Math.floor(epochMs / DAY_MS);
  if (day !== cachedDay) {
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
    cachedDay = day;
  }
  return cachedDate;
}

/** Canonical text of a key attribute: S as is, N exactly as stored, B as base64. */
export function keyText(av: AttributeValue | undefined, name: string, where: string): string {
  if (av === undefined) throw new FlattenError(`the item has no key attribute "${name}"`, where);
  const type = descriptorOf(av) ?? typeOf(av, `${where} key "${name}"`);
  const v = (av as Record<string, unknown>)[type];
  if (type === 'S' && typeof v === 'string') return v;
  if (type === 'N' && isNumberText(v)) return v;
  if (type === 'B' && (typeof v === 'string' || v instanceof Uint8Array)) return binaryToBase64(v);
  throw new FlattenError(`key attribute "${name}" must be S, N or B, got ${type} ${describe(v)}`, where);
}

/** Canonical text of a carried attribute: scalars as their text, containers as DynamoDB JSON. */
function carriedText(av: AttributeValue | undefined, name: string, where: string): string | null {
  if (av === undefined) return null;
  const type = typeOf(av, `${where} carried "${name}"`);
  const v = (av as Record<string, unknown>)[type];
  switch (type) {
    case 'S':
      return v as string;
    case 'N':
      return v as string;
    case 'B':
      return binaryToBase64(v as Binary);
    case 'BOOL':
      return v ? 'true' : 'false';
    case 'NULL':
      return null;
    default:
      return JSON.stringify(av, (_k, x) => (x instanceof Uint8Array ? binaryToBase64(x) : x));
  }
}

/**
 * The flattening engine: a direct walk over AttributeValue JSON that
 * appends rows to a RowBatch. It never converts numbers and never drops a
 * value: empty containers, NULLs, missing attributes and deletions all
 * leave a row behind.
 */
export class Flattener {
  readonly config: FlattenConfig;
  private batch!: RowBatch;
  private attribute = '';
  private itemIndex: number | null = null;
  private where = '';

  constructor(config: FlattenConfig) {
    this.config = config;
  }

  /** Rows for one version of an item (INSERT, MODIFY, SNAPSHOT, or EXPIRE: the old image of a Time to Live deletion). `keys` defaults to the image itself. */
  appendImage(batch: RowBatch, image: Item, stamp: VersionStamp, where: string, keys: Item = image): void {
    if (image === null || typeof image !== 'object' || Array.isArray(image)) {
      throw new FlattenError(`expected an item (a map of attribute name to AttributeValue), got ${describe(image)}`, where);
    }
    this.begin(batch, keys, image, stamp, where);
    for (const attribute of this.config.attributes) {
      this.attribute = attribute;
      this.itemIndex = null;
      const av = image[attribute];
      if (av === undefined) this.emit(null, null, 'ABSENT');
      else this.explode(av);
    }
  }

  /** One ABSENT row per exploded attribute: the item no longer exists (REMOVE, or EXPIRE when the stream has no old image). */
  appendTombstone(batch: RowBatch, keys: Item, oldImage: Item | undefined, stamp: VersionStamp, where: string): void {
    this.begin(batch, keys, oldImage ?? keys, stamp, where);
    for (const attribute of this.config.attributes) {
      this.attribute = attribute;
      this.itemIndex = null;
      this.emit(null, null, 'ABSENT');
    }
  }

  private begin(batch: RowBatch, keys: Item, carrySource: Item, stamp: VersionStamp, where: string): void {
    if (keys === null || typeof keys !== 'object') throw new FlattenError(`expected the item's keys, got ${describe(keys)}`, where);
    const { partitionKey, sortKey, carry } = this.config;
    this.batch = batch;
    this.where = where;
    const pk = keyText(keys[partitionKey], partitionKey, where);
    const sk = sortKey === undefined ? null : keyText(keys[sortKey], sortKey, where);
    const carried = carry.length === 0 ? carry : carry.map((name) => carriedText(carrySource[name], name, where));
    batch.beginVersion(pk, sk, stamp.eventName, stamp.eventTime, stamp.sequence, utcDate(stamp.eventTime), carried as (string | null)[]);
  }

  private explode(av: AttributeValue): void {
    const type = descriptorOf(av) ?? typeOf(av, this.at(null));
    if (type === 'L') {
      const list = (av as { L: AttributeValue[] }).L;
      if (!Array.isArray(list)) throw new FlattenError(`L must hold an array, got ${describe(list)}`, this.at(null));
      if (list.length === 0) {
        this.emit(null, '[]', 'L');
        return;
      }
      for (let i = 0; i < list.length; i++) {
        this.itemIndex = i;
        this.walk(list[i]!, null);
      }
      return;
    }
    this.walk(av, null);
  }

  private walk(av: AttributeValue, path: string | null): void {
    const type = descriptorOf(av) ?? typeOf(av, this.at(path));
    const v = (av as Record<string, unknown>)[type];
    switch (type) {
      case 'S':
        if (typeof v !== 'string') throw this.bad(path, 'S must hold a string', v);
        if (v.length > MAX_ITEM_BYTES) throw new FlattenError(`S of ${v.length} characters is over DynamoDB's 400 KB item limit`, this.at(path));
        this.emit(path, v, 'S');
        return;
      case 'N': {
        if (!isNumberText(v)) throw this.bad(path, 'N must hold number text such as "12.5"', v);
        const limit = numberLimitProblem(v);
        if (limit) throw new FlattenError(`N "${v.length > 60 ? `${v.slice(0, 60)}…` : v}" ${limit}`, this.at(path));
        this.emit(path, v, 'N');
        return;
      }
      case 'BOOL':
        if (typeof v !== 'boolean') throw this.bad(path, 'BOOL must hold true or false', v);
        this.emit(path, v ? 'true' : 'false', 'BOOL');
        return;
      case 'NULL':
        if (v !== true) throw this.bad(path, 'NULL must hold true', v);
        this.emit(path, null, 'NULL');
        return;
      case 'B':
        if (typeof v !== 'string' && !(v instanceof Uint8Array)) throw this.bad(path, 'B must hold base64 text or bytes', v);
        this.emit(path, binaryToBase64(v), 'B');
        return;
      case 'M': {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw this.bad(path, 'M must hold an object', v);
        let empty = true;
        for (const k in v as Record<string, AttributeValue>) {
          empty = false;
          this.walk((v as Record<string, AttributeValue>)[k]!, childKeyPath(path, k));
        }
        if (empty) this.emit(path, '{}', 'M');
        return;
      }
      case 'L': {
        if (!Array.isArray(v)) throw this.bad(path, 'L must hold an array', v);
        if (v.length === 0) {
          this.emit(path, '[]', 'L');
          return;
        }
        for (let i = 0; i < v.length; i++) this.walk(v[i] as AttributeValue, childIndexPath(path, i));
        return;
      }
      case 'SS':
        this.emitSet(path, 'SS', this.members(path, v, (m) => typeof m === 'string', 'strings').sort(compareText));
        return;
      case 'NS':
        this.emitSet(path, 'NS', this.members(path, v, isNumberText, 'number text').sort(compareNumberText));
        return;
      case 'BS': {
        const bytes = this.members(path, v, (m) => typeof m === 'string' || m instanceof Uint8Array, 'binary values');
        this.emitSet(path, 'BS', sortBinary(bytes as Binary[]));
        return;
      }
    }
  }

  private members(path: string | null, v: unknown, ok: (m: unknown) => boolean, what: string): string[] {
    if (!Array.isArray(v) || v.length === 0) throw this.bad(path, `a set must hold a non-empty array of ${what}`, v);
    for (const m of v) if (!ok(m)) throw this.bad(path, `a set member must be one of ${what}`, m);
    return v.slice();
  }

  private emitSet(path: string | null, type: ValueType, members: readonly string[]): void {
    for (const m of members) this.emit(path, m, type);
  }

  private emit(key: string | null, value: string | null, type: ValueType): void {
    this.batch.push(this.attribute, this.itemIndex, key, value, type);
  }

  private at(path: string | null): string {
    const index = this.itemIndex === null ? '' : `[${this.itemIndex}]`;
    const inner = path === null ? '' : index === '' ? `.${path}` : path.startsWith('[') ? path : `.${path}`;
    return `${this.where} attribute "${this.attribute}"${index}${inner}`.trim();
  }

  private bad(path: string | null, message: string, got: unknown): FlattenError {
    return new FlattenError(`${message}, got ${describe(got)}`, this.at(path));
  }
}

/** Binary set members in byte order, as base64 text. */
function sortBinary(members: readonly Binary[]): string[] {
  return members
    .map((m) => (typeof m === 'string' ? Buffer.from(m, 'base64') : Buffer.from(m.buffer, m.byteOffset, m.byteLength)))
    .sort(Buffer.compare)
    .map((b) => b.toString('base64'));
}
