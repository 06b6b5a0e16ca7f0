import { RowBatch } from '../flatten/row-batch.ts';
import { ROW_COLUMNS, type EventName, type ValueType } from '../schema/row-schema.ts';

/**
 * Rows as the maintenance jobs handle them: one array per row in a fixed
 * layout (the schema's columns, then the carried attributes, then dt),
 * whatever column order or carried set the object it came from had. A
 * carried column an object lacks reads as null, as Athena reads it.
 */

export type Row = unknown[];

export const FIXED = ROW_COLUMNS.map((c) => c.name);
export const I = Object.fromEntries(FIXED.map((name, i) => [name, i])) as Record<(typeof FIXED)[number], number>;

export interface Layout {
  readonly carried: readonly string[];
  /** Index of dt in a row (after the carried columns). */
  readonly dt: number;
  readonly width: number;
}

export function layout(carried: readonly string[]): Layout {
  return { carried, dt: FIXED.length + carried.length, width: FIXED.length + carried.length + 1 };
}

/** The carried columns of a set of objects: the configured ones first, then any other an object has (sorted), so nothing is dropped. */
export function carriedUnion(configured: readonly string[], objectColumns: readonly (readonly string[])[]): string[] {
  const fixed = new Set<string>([...FIXED, 'dt']);
  const extra = new Set<string>();
  for (const columns of objectColumns) for (const c of columns) if (!fixed.has(c) && !configured.includes(c)) extra.add(c);
  return [...configured, ...[...extra].sort()];
}

/** Maps an object's rows (its own column order) into the layout; `dt` from the row when the object has it, else the given one. */
export function rowMapper(columns: readonly string[], into: Layout, dt?: string): (source: unknown[]) => Row {
  const names = [...FIXED, ...into.carried];
  const from = names.map((n) => columns.indexOf(n));
  const dtFrom = columns.indexOf('dt');
  return (source) => {
    const row: Row = new Array(into.width);
    for (let i = 0; i < from.length; i++) row[i] = from[i]! >= 0 ? (source[from[i]!] ?? null) : null;
    row[into.dt] = dtFrom >= 0 ? source[dtFrom] : (dt ?? null);
    return row;
  };
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The lake's maintenance order: pk, sk, attribute, then the version
 * (event_time, sequence), then the rest of the row, so rows of one item are
 * together (row-group statistics prune by key), the versions of each
 * (pk, sk, attribute) follow in time order, and identical rows are
 * neighbours (duplicates fold in one pass).
 */
export function maintenanceOrder(width: number): (a: Row, b: Row) => number {
  const order = [I.pk, I.sk, I.attribute, I.event_time, I.sequence, I.item_index, I.key, I.value_type, I.value, I.event_name];
  for (let i = FIXED.length; i < width; i++) order.push(i);
  return (a, b) => {
    for (const i of order) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return 0;
  };
}

export function sameRow(a: Row, b: Row): boolean {
  // Over the layout's columns: a sort may keep a computed value past them (a shuffle's bucket) on some rows.
  const width = Math.min(a.length, b.length);
  for (let i = 0; i < width; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The version a row belongs to: (pk, sk, attribute, event_time, sequence). */
export function sameVersion(a: Row, b: Row): boolean {
  return a[I.pk] === b[I.pk] && a[I.sk] === b[I.sk] && a[I.attribute] === b[I.attribute] && a[I.event_time] === b[I.event_time] && a[I.sequence] === b[I.sequence];
}

export function sameItemAttribute(a: Row, b: Row): boolean {
  return a[I.pk] === b[I.pk] && a[I.sk] === b[I.sk] && a[I.attribute] === b[I.attribute];
}

/** A stable 32-bit FNV-1a hash of a pk: which part of a partitioned job a row belongs to. */
export function pkHash(pk: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < pk.length; i++) {
    h ^= pk.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Rows into a RowBatch (the Parquet writer's input), one version per run of rows that share it. */
export function toBatch(rows: readonly Row[], into: Layout): RowBatch {
  const batch = new RowBatch(into.carried);
  let previous: Row | undefined;
  for (const row of rows) {
    const newVersion =
      !previous ||
      previous[I.pk] !== row[I.pk] ||
      previous[I.sk] !== row[I.sk] ||
      previous[I.event_name] !== row[I.event_name] ||
      previous[I.event_time] !== row[I.event_time] ||
      previous[I.sequence] !== row[I.sequence] ||
      previous[into.dt] !== row[into.dt] ||
      into.carried.some((_, c) => previous![FIXED.length + c] !== row[FIXED.length + c]);
    if (newVersion) {
      batch.beginVersion(
        row[I.pk] as string,
        (row[I.sk] ?? null) as string | null,
        row[I.event_name] as EventName,
        Number(row[I.event_time]),
        row[I.sequence] as string,
        String(row[into.dt]),
        into.carried.map((_, c) => (row[FIXED.length + c] ?? null) as string | null),
      );
    }
    batch.push(row[I.attribute] as string, (row[I.item_index] ?? null) as number | null, (row[I.key] ?? null) as string | null, (row[I.value] ?? null) as string | null, row[I.value_type] as ValueType);
    previous = row;
  }
  return batch;
}

/** Identical neighbours of a sorted stream folded to one (rows at-least-once delivery wrote twice). */
export async function* distinct(rows: AsyncIterable<Row>): AsyncGenerator<Row> {
  let previous: Row | undefined;
  for await (const row of rows) {
    if (previous && sameRow(previous, row)) continue;
    previous = row;
    yield row;
  }
}

/**
 * The latest version of each (pk, sk, attribute) of a sorted stream (the
 * order puts a group's versions in time order, so its last version comes
 * last), identical rows folded. `dropAbsent`: leave out rows that record
 * a removal (the final state); a slice of a larger job keeps them, since
 * they must still hide older versions in other slices.
 */
export async function* latestVersions(rows: AsyncIterable<Row>, dropAbsent: boolean): AsyncGenerator<Row> {
  let group: Row[] = [];
  const emit = function* (): Generator<Row> {
    for (let i = 0; i < group.length; i++) {
      const row = group[i]!;
      if (dropAbsent && row[I.value_type] === 'ABSENT') continue;
      if (i > 0 && sameRow(group[i - 1]!, row)) continue;
      yield row;
    }
  };
  for await (const row of rows) {
    const last = group[group.length - 1];
    if (last && !sameItemAttribute(last, row)) {
      yield* emit();
      group = [];
    } else if (last && (last[I.event_time] !== row[I.event_time] || last[I.sequence] !== row[I.sequence])) {
      group = []; // a later version of the same (pk, sk, attribute): the earlier one can never win
    }
    group.push(row);
  }
  yield* emit();
}
