import type { EventName, ValueType } from '../schema/row-schema.ts';

/**
 * Flattened rows held column by column. The engine appends straight into
 * these arrays and the Parquet encoder reads them as they are, so no
 * per-row object is ever allocated on the hot path.
 *
 * Columns that are the same for every row of one item version (pk, sk,
 * event columns, dt, carried attributes) are stored once per version; each
 * row points at its version. That halves the work per row both when
 * flattening and when encoding, where those columns are dictionary-encoded
 * per version instead of per row.
 */
export class RowBatch {
  readonly carried: readonly string[];

  // ---- one entry per item version
  readonly pk: string[] = [];
  readonly sk: (string | null)[] = [];
  readonly event_name: EventName[] = [];
  /** Epoch milliseconds, UTC. */
  readonly event_time: number[] = [];
  readonly sequence: string[] = [];
  readonly dt: string[] = [];
  /** One array per carried attribute, in the order of `carried`. */
  readonly carriedValues: (string | null)[][];

  // ---- one entry per row
  /** Index of the row's version in the arrays above. */
  readonly version: number[] = [];
  readonly attribute: string[] = [];
  readonly item_index: (number | null)[] = [];
  readonly key: (string | null)[] = [];
  readonly value: (string | null)[] = [];
  readonly value_type: ValueType[] = [];

  constructor(carried: readonly string[] = []) {
    this.carried = carried;
    this.carriedValues = carried.map(() => []);
  }

  get length(): number {
    return this.version.length;
  }

  get versions(): number {
    return this.pk.length;
  }

  /** Starts a version; rows appended after this belong to it. */
  beginVersion(pk: string, sk: string | null, eventName: EventName, eventTime: number, sequence: string, dt: string, carried: readonly (string | null)[]): void {
    this.pk.push(pk);
    this.sk.push(sk);
    this.event_name.push(eventName);
    this.event_time.push(eventTime);
    this.sequence.push(sequence);
    this.dt.push(dt);
    for (let c = 0; c < carried.length; c++) this.carriedValues[c]!.push(carried[c]!);
  }

  /** Appends a row to the current version. */
  push(attribute: string, itemIndex: number | null, key: string | null, value: string | null, valueType: ValueType): void {
    this.version.push(this.pk.length - 1);
    this.attribute.push(attribute);
    this.item_index.push(itemIndex);
    this.key.push(key);
    this.value.push(value);
    this.value_type.push(valueType);
  }

  /** A position to roll back to with truncate(). */
  mark(): { rows: number; versions: number } {
    return { rows: this.length, versions: this.versions };
  }

  /** Drops what was appended after `mark`: undoes a record that failed halfway through flattening. */
  truncate(mark: { rows: number; versions: number } | number): void {
    const rows = typeof mark === 'number' ? mark : mark.rows;
    const versions = typeof mark === 'number' ? (rows === 0 ? 0 : this.version[rows - 1]! + 1) : mark.versions;
    for (const column of [this.version, this.attribute, this.item_index, this.key, this.value, this.value_type]) column.length = Math.min(column.length, rows);
    for (const column of [this.pk, this.sk, this.event_name, this.event_time, this.sequence, this.dt, ...this.carriedValues]) {
      column.length = Math.min(column.length, versions);
    }
  }

  /** Plain row objects with exactly the schema's column names (JSONL output, tests). */
  *rows(): Generator<FlatRow> {
    for (let i = 0; i < this.length; i++) yield this.row(i);
  }

  row(i: number): FlatRow {
    const v = this.version[i]!;
    const row: FlatRow = {
      pk: this.pk[v]!,
      sk: this.sk[v]!,
      attribute: this.attribute[i]!,
      item_index: this.item_index[i]!,
      key: this.key[i]!,
      value: this.value[i]!,
      value_type: this.value_type[i]!,
      event_name: this.event_name[v]!,
      event_time: new Date(this.event_time[v]!).toISOString(),
      sequence: this.sequence[v]!,
    };
    for (let c = 0; c < this.carried.length; c++) row[this.carried[c]!] = this.carriedValues[c]![v]!;
    row.dt = this.dt[v]!;
    return row;
  }

  /** Row positions grouped by dt partition, in first-seen order. */
  partitions(): Map<string, number[]> {
    const byDt = new Map<string, number[]>();
    for (let i = 0; i < this.length; i++) {
      const dt = this.dt[this.version[i]!]!;
      let list = byDt.get(dt);
      if (!list) byDt.set(dt, (list = []));
      list.push(i);
    }
    return byDt;
  }
}

/** One row as a plain object; event_time as ISO-8601 UTC text. Keys follow the schema's column order. */
export interface FlatRow {
  pk: string;
  sk: string | null;
  attribute: string;
  item_index: number | null;
  key: string | null;
  value: string | null;
  value_type: ValueType;
  event_name: EventName;
  event_time: string;
  sequence: string;
  [carriedOrDt: string]: string | number | null;
}
