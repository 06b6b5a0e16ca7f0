import { rowColumnNames, type EventName, type ValueType } from '../schema/row-schema.ts';

/**
 * Flattened rows held column by column. The engine appends straight into
 * these arrays and the Parquet encoder reads them as they are, so no
 * per-row object is ever allocated on the hot path.
 */
export class RowBatch {
  readonly carried: readonly string[];
  readonly pk: string[] = [];
  readonly sk: (string | null)[] = [];
  readonly attribute: string[] = [];
  readonly item_index: (number | null)[] = [];
  readonly key: (string | null)[] = [];
  readonly value: (string | null)[] = [];
  readonly value_type: ValueType[] = [];
  readonly event_name: EventName[] = [];
  /** Epoch milliseconds, UTC. */
  readonly event_time: number[] = [];
  readonly sequence: string[] = [];
  readonly dt: string[] = [];
  /** One array per carried attribute, in the order of `carried`. */
  readonly carriedValues: (string | null)[][];

  constructor(carried: readonly string[] = []) {
    this.carried = carried;
    this.carriedValues = carried.map(() => []);
  }

  get length(): number {
    return this.pk.length;
  }

  /** Drops rows from `length` on: undoes a record that failed halfway through flattening. */
  truncate(length: number): void {
    if (length >= this.length) return;
    for (const column of [this.pk, this.sk, this.attribute, this.item_index, this.key, this.value, this.value_type, this.event_name, this.event_time, this.sequence, this.dt, ...this.carriedValues]) {
      column.length = length;
    }
  }

  /** Plain row objects with exactly the schema's column names (JSONL output, tests). */
  *rows(): Generator<FlatRow> {
    for (let i = 0; i < this.length; i++) yield this.row(i);
  }

  row(i: number): FlatRow {
    const row: FlatRow = {
      pk: this.pk[i]!,
      sk: this.sk[i]!,
      attribute: this.attribute[i]!,
      item_index: this.item_index[i]!,
      key: this.key[i]!,
      value: this.value[i]!,
      value_type: this.value_type[i]!,
      event_name: this.event_name[i]!,
      event_time: new Date(this.event_time[i]!).toISOString(),
      sequence: this.sequence[i]!,
    };
    for (let c = 0; c < this.carried.length; c++) row[this.carried[c]!] = this.carriedValues[c]![i]!;
    row.dt = this.dt[i]!;
    return row;
  }

  /** Row positions grouped by dt partition, in first-seen order. */
  partitions(): Map<string, number[]> {
    const byDt = new Map<string, number[]>();
    for (let i = 0; i < this.length; i++) {
      const dt = this.dt[i]!;
      let list = byDt.get(dt);
      if (!list) byDt.set(dt, (list = []));
      list.push(i);
    }
    return byDt;
  }

  columnNames(): string[] {
    return rowColumnNames(this.carried);
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
