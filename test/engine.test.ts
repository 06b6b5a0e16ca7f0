import { describe, expect, it } from 'vitest';
import { Flattener, padSequence, type FlattenConfig } from '../src/flatten/flatten.ts';
import { RowBatch, type FlatRow } from '../src/flatten/row-batch.ts';
import { appendSnapshotItem, appendStreamRecord, snapshotTimeMs } from '../src/flatten/stream-record.ts';
import { escapeKey, parsePath } from '../src/flatten/path.ts';
import { compareNumberText } from '../src/flatten/decimal.ts';
import { unflatten } from '../src/flatten/unflatten.ts';
import type { Item } from '../src/flatten/attribute-value.ts';
import { rowColumnNames } from '../src/schema/row-schema.ts';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);

function flattenItem(item: unknown, config: Partial<FlattenConfig> = {}): FlatRow[] {
  const full: FlattenConfig = { attributes: ['items'], partitionKey: 'pk', carry: [], ...config };
  const batch = new RowBatch(full.carry);
  appendSnapshotItem(new Flattener(full), batch, item as Item, T0, 'test');
  return [...batch.rows()];
}

const leaf = (r: FlatRow) => [r.pk, r.sk, r.attribute, r.item_index, r.key, r.value, r.value_type];

describe('flattening the seed', () => {
  it('turns a list of maps into one row per leaf, keyed by the partition key', () => {
    const rows = flattenItem({ pk: { S: 'A1' }, items: { L: [{ M: { key1: { S: 'value1' } } }, { M: { key2: { S: 'value2' } } }] } });
    expect(rows.map(leaf)).toEqual([
      ['A1', null, 'items', 0, 'key1', 'value1', 'S'],
      ['A1', null, 'items', 1, 'key2', 'value2', 'S'],
    ]);
  });

  it('uses exactly the schema column names, in schema order, for row objects', () => {
    const rows = flattenItem({ pk: { S: 'A1' }, customer_id: { S: 'C9' }, items: { L: [{ S: 'x' }] } }, { carry: ['customer_id'] });
    expect(Object.keys(rows[0]!)).toEqual(rowColumnNames(['customer_id']));
    expect(rows[0]!.customer_id).toBe('C9');
    expect(rows[0]!.dt).toBe('2026-11-27');
    expect(rows[0]!.event_name).toBe('SNAPSHOT');
    expect(rows[0]!.sequence).toBe('0'.repeat(40));
  });
});

describe('leaf values keep their DynamoDB type and exact text', () => {
  it('keeps 38-digit and extreme numbers verbatim', () => {
    const n38 = '12345678901234567890123456789012345678';
    const rows = flattenItem({
      pk: { N: '-0.000000000000000000000000000000000000001' },
      items: { M: { big: { N: n38 }, tiny: { N: '1E-130' }, huge: { N: '9.9999999999999999999999999999999999999E+125' } } },
    });
    expect(rows.map((r) => [r.pk, r.key, r.value, r.value_type])).toEqual([
      ['-0.000000000000000000000000000000000000001', 'big', n38, 'N'],
      ['-0.000000000000000000000000000000000000001', 'tiny', '1E-130', 'N'],
      ['-0.000000000000000000000000000000000000001', 'huge', '9.9999999999999999999999999999999999999E+125', 'N'],
    ]);
  });

  it('writes BOOL, NULL, binary (base64) and nested paths', () => {
    const rows = flattenItem({
      pk: { B: 'AAEC' },
      items: { M: { address: { M: { geo: { M: { lat: { N: '1.5' } } } } }, ok: { BOOL: false }, none: { NULL: true }, raw: { B: new Uint8Array([255, 0]) }, tags: { L: [{ S: 'a' }, { L: [{ S: 'b' }] }] } } },
    });
    expect(rows.map((r) => [r.pk, r.key, r.value, r.value_type])).toEqual([
      ['AAEC', 'address.geo.lat', '1.5', 'N'],
      ['AAEC', 'ok', 'false', 'BOOL'],
      ['AAEC', 'none', null, 'NULL'],
      ['AAEC', 'raw', '/wA=', 'B'],
      ['AAEC', 'tags[0]', 'a', 'S'],
      ['AAEC', 'tags[1][0]', 'b', 'S'],
    ]);
  });

  it('writes one row per set member, sorted, under the set path', () => {
    const rows = flattenItem({
      pk: { S: 'p' },
      items: { M: { ns: { NS: ['10', '-2', '1e1', '3.5', '100000000000000000000000000000000000001'] }, ss: { SS: ['b', 'a'] }, bs: { BS: ['Ag==', 'AQ=='] } } },
    });
    expect(rows.map((r) => [r.key, r.value, r.value_type])).toEqual([
      ['ns', '-2', 'NS'],
      ['ns', '3.5', 'NS'],
      ['ns', '10', 'NS'],
      ['ns', '1e1', 'NS'],
      ['ns', '100000000000000000000000000000000000001', 'NS'],
      ['ss', 'a', 'SS'],
      ['ss', 'b', 'SS'],
      ['bs', 'AQ==', 'BS'],
      ['bs', 'Ag==', 'BS'],
    ]);
  });

  it('escapes reserved characters in key names', () => {
    const rows = flattenItem({ pk: { S: 'p' }, items: { M: { 'a.b': { M: { 'c[0]': { S: 'x' }, 'back\\slash': { S: 'y' } } } } } });
    expect(rows.map((r) => r.key)).toEqual(['a\\.b.c\\[0\\]', 'a\\.b.back\\\\slash']);
    expect(parsePath('a\\.b.c\\[0\\]')).toEqual([{ key: 'a.b' }, { key: 'c[0]' }]);
  });
});

describe('nothing disappears', () => {
  it('gives an empty list one row', () => {
    expect(flattenItem({ pk: { S: 'p' }, items: { L: [] } }).map(leaf)).toEqual([['p', null, 'items', null, null, '[]', 'L']]);
  });

  it('gives an empty map element a {} row and an empty nested list a [] row', () => {
    const rows = flattenItem({ pk: { S: 'p' }, items: { L: [{ M: {} }, { M: { xs: { L: [] } } }] } });
    expect(rows.map(leaf)).toEqual([
      ['p', null, 'items', 0, null, '{}', 'M'],
      ['p', null, 'items', 1, 'xs', '[]', 'L'],
    ]);
  });

  it('marks a missing exploded attribute ABSENT so the current view drops the old list', () => {
    expect(flattenItem({ pk: { S: 'p' } }).map(leaf)).toEqual([['p', null, 'items', null, null, null, 'ABSENT']]);
  });

  it('writes a tombstone per exploded attribute for REMOVE, with sort key and carried values from the old image', () => {
    const config: FlattenConfig = { attributes: ['items', 'tags'], partitionKey: 'pk', sortKey: 'sk', carry: ['customer_id'] };
    const batch = new RowBatch(config.carry);
    appendStreamRecord(new Flattener(config), batch, {
      eventID: '1',
      eventName: 'REMOVE',
      dynamodb: {
        ApproximateCreationDateTime: 1764237600,
        Keys: { pk: { S: 'A1' }, sk: { N: '7' } },
        OldImage: { pk: { S: 'A1' }, sk: { N: '7' }, customer_id: { S: 'C1' }, items: { L: [] } },
        SequenceNumber: '4421584500000000017450439091',
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    }, 'r0');
    const rows = [...batch.rows()];
    expect(rows.map((r) => [r.pk, r.sk, r.attribute, r.value_type, r.event_name, r.customer_id, r.sequence, r.event_time])).toEqual([
      ['A1', '7', 'items', 'ABSENT', 'REMOVE', 'C1', '000000000000' + '4421584500000000017450439091', '2025-11-27T10:00:00.000Z'],
      ['A1', '7', 'tags', 'ABSENT', 'REMOVE', 'C1', '000000000000' + '4421584500000000017450439091', '2025-11-27T10:00:00.000Z'],
    ]);
  });
});

describe('bad input names what is wrong and where', () => {
  it('rejects an unknown type descriptor with its path', () => {
    expect(() => flattenItem({ pk: { S: 'p' }, items: { L: [{ M: { a: { X: '1' } } }] } })).toThrow(/attribute "items"\[0\]\.a: unknown type descriptor "X"/);
  });
  it('rejects a missing key attribute', () => {
    expect(() => flattenItem({ items: { L: [] } })).toThrow(/no key attribute "pk"/);
    expect(() => flattenItem({ pk: { S: 'p' }, items: { L: [] } }, { sortKey: 'sk' })).toThrow(/no key attribute "sk"/);
  });
  it('rejects number text that is not a number', () => {
    expect(() => flattenItem({ pk: { S: 'p' }, items: { N: '12abc' } })).toThrow(/N must hold number text/);
  });
  it('rejects values no DynamoDB item can hold: over 38 digits, out of range, over 400 KB', () => {
    expect(() => flattenItem({ pk: { S: 'p' }, items: { M: { n: { N: '123456789012345678901234567890123456789' } } } })).toThrow(/attribute "items"\.n: N "123456789012345678901234567890123456789" has 39 significant digits; DynamoDB numbers have at most 38/);
    expect(() => flattenItem({ pk: { S: 'p' }, items: { N: '1E+126' } })).toThrow(/is outside DynamoDB's range/);
    expect(() => flattenItem({ pk: { S: 'p' }, items: { N: '1E-131' } })).toThrow(/is outside DynamoDB's range/);
    expect(() => flattenItem({ pk: { S: 'p' }, items: { S: 'x'.repeat(400 * 1024 + 1) } })).toThrow(/over DynamoDB's 400 KB item limit/);
    // The edges are fine, including 38 digits with leading and trailing zeros.
    expect(flattenItem({ pk: { S: 'p' }, items: { NS: ['1E-130', '9.9999999999999999999999999999999999999E+125', '000012345678901234567890123456789012345678000'] } })).toHaveLength(3);
  });

  it('rejects an AttributeValue with two descriptors', () => {
    expect(() => flattenItem({ pk: { S: 'p' }, items: { S: 'a', N: '1' } })).toThrow(/exactly one type descriptor/);
  });
  it('rejects an INSERT without NewImage, naming the stream view type', () => {
    const batch = new RowBatch();
    expect(() =>
      appendStreamRecord(new Flattener({ attributes: ['items'], partitionKey: 'pk', carry: [] }), batch, {
        eventName: 'INSERT',
        dynamodb: { ApproximateCreationDateTime: 1, Keys: { pk: { S: 'p' } }, SequenceNumber: '1', StreamViewType: 'KEYS_ONLY' },
      }, 'record 3'),
    ).toThrow(/record 3: INSERT without NewImage.*KEYS_ONLY/);
  });
  it('rejects a sequence number that is not decimal', () => {
    expect(() => padSequence('12a')).toThrow(/decimal sequence number/);
  });
});

describe('helpers', () => {
  it('orders number text numerically without JS numbers', () => {
    const sorted = ['1e2', '-1', '0', '99.99999999999999999999999999999999999', '-1e-130', '0.0', '1E+125', '100.0000000000000000000000000000000001'];
    sorted.sort(compareNumberText);
    expect(sorted).toEqual(['-1', '-1e-130', '0', '0.0', '99.99999999999999999999999999999999999', '1e2', '100.0000000000000000000000000000000001', '1E+125']);
  });
  it('floors snapshot time to the second', () => {
    expect(snapshotTimeMs(new Date('2026-01-01T00:00:10.999Z'))).toBe(Date.UTC(2026, 0, 1, 0, 0, 10));
  });
  it('escapes only what needs escaping', () => {
    expect(escapeKey('plain')).toBe('plain');
    expect(escapeKey('')).toBe('\\_');
    expect(parsePath('\\_[0]')).toEqual([{ key: '' }, { index: 0 }]);
    expect(parsePath('[3].a.\\_')).toEqual([{ index: 3 }, { key: 'a' }, { key: '' }]);
    expect(() => parsePath('a\\x')).toThrow(/bad escape/);
  });
  it('rebuilds the seed attribute from its rows', () => {
    const items = { L: [{ M: { key1: { S: 'value1' } } }, { M: { key2: { S: 'value2' } } }] };
    expect(unflatten(flattenItem({ pk: { S: 'A1' }, items }))).toEqual(items);
  });
});
