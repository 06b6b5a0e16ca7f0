import type { ValueType } from '../schema/row-schema.ts';
import type { AttributeValue } from './attribute-value.ts';
import { parsePath, type PathSegment } from './path.ts';

/** The columns of a row that describe one leaf of one attribute version. */
export interface LeafRow {
  readonly item_index: number | null;
  readonly key: string | null;
  readonly value: string | null;
  readonly value_type: ValueType | string;
}

type Node = { av?: AttributeValue; map?: Map<string, Node>; list?: Node[] };

/**
 * Rebuilds one attribute's value from the rows of a single version
 * (the inverse of Flattener). Returns undefined for an ABSENT attribute.
 * This is what proves the lake lossless: unflatten(flatten(x)) equals x.
 */
export function unflatten(rows: readonly LeafRow[]): AttributeValue | undefined {
  if (rows.length === 0) throw new Error('no rows to rebuild the attribute from');
  if (rows.some((r) => r.value_type === 'ABSENT')) {
    if (rows.length !== 1) throw new Error('an ABSENT row must be the only row of its version');
    return undefined;
  }
  const listed = rows.filter((r) => r.item_index !== null);
  if (listed.length > 0) {
    if (listed.length !== rows.length) throw new Error('rows mix list positions and non-list rows');
    const elements = new Map<number, LeafRow[]>();
    for (const r of rows) {
      const list = elements.get(r.item_index!) ?? [];
      list.push(r);
      elements.set(r.item_index!, list);
    }
    const L: AttributeValue[] = [];
    for (let i = 0; i < elements.size; i++) {
      const element = elements.get(i);
      if (!element) throw new Error(`list position ${i} is missing`);
      L.push(rebuildElement(element));
    }
    return { L };
  }
  return rebuildElement(rows);
}

function rebuildElement(rows: readonly LeafRow[]): AttributeValue {
  const root: Node = {};
  for (const r of rows) {
    const segments = r.key === null ? [] : parsePath(r.key);
    place(root, segments, r);
  }
  return toAttributeValue(root);
}

function place(root: Node, segments: readonly PathSegment[], row: LeafRow): void {
  let node = root;
  for (const seg of segments) {
    if ('key' in seg) {
      node.map ??= new Map();
      let child = node.map.get(seg.key);
      if (!child) node.map.set(seg.key, (child = {}));
      node = child;
    } else {
      node.list ??= [];
      node = node.list[seg.index] ??= {};
    }
  }
  const type = row.value_type;
  if (type === 'SS' || type === 'NS' || type === 'BS') {
    const existing = node.av as Record<string, string[]> | undefined;
    if (existing && !existing[type]) throw new Error(`path ${row.key} holds both a set and another value`);
    if (existing) existing[type]!.push(row.value!);
    else node.av = { [type]: [row.value!] } as AttributeValue;
    return;
  }
  if (node.av) throw new Error(`path ${row.key ?? '(element)'} has more than one value`);
  node.av = leaf(type, row.value);
}

function leaf(type: string, value: string | null): AttributeValue {
  switch (type) {
    case 'S':
      return { S: value! };
    case 'N':
      return { N: value! };
    case 'B':
      return { B: value! };
    case 'BOOL':
      return { BOOL: value === 'true' };
    case 'NULL':
      return { NULL: true };
    case 'M':
      return { M: {} };
    case 'L':
      return { L: [] };
    default:
      throw new Error(`unknown value_type ${type}`);
  }
}

function toAttributeValue(node: Node): AttributeValue {
  if (node.av) return node.av;
  if (node.map) {
    const M: Record<string, AttributeValue> = {};
    // defineProperty, not assignment: a DynamoDB map key may well be "__proto__".
    for (const [k, child] of node.map) Object.defineProperty(M, k, { value: toAttributeValue(child), enumerable: true, writable: true, configurable: true });
    return { M };
  }
  if (node.list) {
    const L: AttributeValue[] = [];
    for (let i = 0; i < node.list.length; i++) {
      const child = node.list[i];
      if (!child) throw new Error(`list position ${i} is missing`);
      L.push(toAttributeValue(child));
    }
    return { L };
  }
  throw new Error('a path leads nowhere');
}
