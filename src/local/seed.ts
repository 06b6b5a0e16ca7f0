import type { AttributeValue, Item } from '../flatten/attribute-value.ts';
import type { FlattenConfig } from '../flatten/flatten.ts';

/**
 * The data npm start writes: the seed document's table (A1-A3, a list of
 * maps under `items`), the change it then makes, and synthetic items for
 * --items N whose row count is known in advance.
 */

export const TABLE_NAME = 'ddb-flatten-local';

export const FLATTEN: FlattenConfig = { attributes: ['items'], partitionKey: 'pk', sortKey: undefined, carry: [] };

const listOfMaps = (...pairs: [string, string][]): AttributeValue => ({ L: pairs.map(([k, v]) => ({ M: { [k]: { S: v } } })) });

/** The per-element view of the local lake: the seed's keys as columns (elementViews / element_view_keys in the module). */
export const ELEMENT_VIEWS = { items: ['key1', 'key2'] } as const;

/** The seed document's "DynamoDB Table". */
export const SEED_ITEMS: readonly Item[] = [
  { pk: { S: 'A1' }, items: listOfMaps(['key1', 'value1'], ['key2', 'value2']) },
  { pk: { S: 'A2' }, items: listOfMaps(['key1', 'value3'], ['key2', 'value4']) },
  { pk: { S: 'A3' }, items: listOfMaps(['key1', 'value5'], ['key2', 'value6']) },
];

/** The change shown after the seed: A1's second element gets a new value (MODIFY). */
export const SEED_UPDATE = {
  key: { pk: { S: 'A1' } } as Item,
  description: 'MODIFY A1: SET items[1].key2 = "value2-updated"',
  input: {
    UpdateExpression: 'SET #items[1].#key2 = :value',
    ExpressionAttributeNames: { '#items': 'items', '#key2': 'key2' },
    ExpressionAttributeValues: { ':value': { S: 'value2-updated' } },
  },
};

/** ...and A3 is deleted (REMOVE). */
export const SEED_DELETE = { key: { pk: { S: 'A3' } } as Item, description: 'REMOVE A3: DeleteItem' };

/** Elements in synthetic item i: 1 to 3, cycling. */
function syntheticElements(i: number): number {
  return 1 + (i % 3);
}

/**
 * Synthetic item i: `pk` S000000i, `items` a list of 1-3 maps of two leaves each (a string and a
 * number). Version v > 0 is the same item changed (--days modifies items): other values, the same
 * shape, so the row count stays known.
 */
export function syntheticItem(i: number, version = 0): Item {
  const elements: AttributeValue[] = [];
  for (let j = 0; j < syntheticElements(i); j++) {
    const name = version === 0 ? `value-${i}-${j}` : `value-${i}-${j}-v${version}`;
    elements.push({ M: { name: { S: name }, qty: { N: String((i * 10 + j) * (version + 1)) } } });
  }
  return { pk: { S: `S${String(i).padStart(9, '0')}` }, items: { L: elements } };
}

/** Rows the flattener must produce for synthetic items 0..n-1 (two leaves per element). */
export function syntheticRowCount(n: number): number {
  let rows = 0;
  for (let i = 0; i < n; i++) rows += 2 * syntheticElements(i);
  return rows;
}
