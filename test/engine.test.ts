import { describe, expect, it } from 'vitest';
import { Flattener, padSequence, type FlattenConfig } from '../src/flatten/flatten.ts';
import { RowBatch, type FlatRow } from '../src/flatten/row-batch.ts';
import { appendSnapshotItem, appendStreamRecord, snapshotTimeMs } from '../src/flatten/stream-record.ts';
import { escapeKey, parsePath } from '../src/flatten/path.ts';
import { compareNumberText } from '../src/flatten/decimal.ts';
import { unflatten } from '../src/flatten/unflatten.ts';
import type { Item } from '../src/flatten/attribute-value.ts';
import { EVENT_NAMES, EXPIRED_EVENT, isEventName, ROW_COLUMNS, rowColumnNames } from '../src/schema/row-schema.ts';
import { isTtlDeletion, TTL_USER_IDENTITY, type StreamRecordLike } from '../src/flatten/stream-record.ts';
import { AWS_TTL_USER_IDENTITY } from './support/stream-events.ts';

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

describe('Time to Live deletions: EXPIRE rows, told apart from deletes', () => {
  const config: FlattenConfig = { attributes: ['items', 'tags'], partitionKey: 'pk', sortKey: 'sk', carry: ['customer_id'] };
  const OLD_IMAGE: Item = {
    pk: { S: 'SESSION#abc123' },
    sk: { S: '2026-11-27' },
    customer_id: { S: 'C7' },
    expires_at: { N: '1795773600' },
    items: { L: [{ M: { sku: { S: 'x-1' }, qty: { N: '2' } } }] },
  };
  /**
   * A REMOVE as Lambda delivers it (the record shape of test/support/stream-events.ts) carrying AWS's
   * documented userIdentity of a Time to Live deletion, verbatim (AWS_TTL_USER_IDENTITY).
   */
  const ttlRemove = (dynamodb: Partial<NonNullable<StreamRecordLike['dynamodb']>> = {}): StreamRecordLike =>
    JSON.parse(
      JSON.stringify({
        eventID: '7de3041dd709b024af6f29e4fa13d34c',
        eventName: 'REMOVE',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: {
          ApproximateCreationDateTime: 1795777200,
          Keys: { pk: { S: 'SESSION#abc123' }, sk: { S: '2026-11-27' } },
          OldImage: OLD_IMAGE,
          SequenceNumber: '4421584500000000017450439095',
          SizeBytes: 112,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
          ...dynamodb,
        },
        eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/sessions/stream/2026-11-27T00:00:00.000',
        userIdentity: AWS_TTL_USER_IDENTITY,
      }),
    ) as StreamRecordLike;
  const rowsOf = (record: StreamRecordLike): FlatRow[] => {
    const batch = new RowBatch(config.carry);
    appendStreamRecord(new Flattener(config), batch, record, 'r0');
    return [...batch.rows()];
  };
  const SEQUENCE = '000000000000' + '4421584500000000017450439095';
  const AT = '2026-11-27T11:00:00.000Z';

  it('EXPIRE is one of the event names, described in the row schema', () => {
    expect(EVENT_NAMES).toContain(EXPIRED_EVENT);
    expect(EXPIRED_EVENT).toBe('EXPIRE');
    expect(isEventName('EXPIRE')).toBe(true);
    expect(isEventName('TTL')).toBe(false);
    expect(ROW_COLUMNS.find((c) => c.name === 'event_name')!.description).toMatch(/EXPIRE \(a Time to Live deletion/);
  });

  it("knows AWS's TTL userIdentity in Lambda's spelling and the SDK's, and nothing else", () => {
    expect(AWS_TTL_USER_IDENTITY).toEqual(TTL_USER_IDENTITY);
    expect(isTtlDeletion(AWS_TTL_USER_IDENTITY)).toBe(true);
    // GetRecords through the SDK (a redriven batch) spells it { Type, PrincipalId }.
    expect(isTtlDeletion({ Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' })).toBe(true);
    expect(isTtlDeletion(undefined)).toBe(false);
    expect(isTtlDeletion(null)).toBe(false);
    expect(isTtlDeletion({ type: 'Service', principalId: 'lambda.amazonaws.com' })).toBe(false);
    expect(isTtlDeletion({ type: 'AssumedRole', principalId: 'dynamodb.amazonaws.com' })).toBe(false);
  });

  it('flattens the expired item: its old image as rows with event_name EXPIRE, stamped with the record', () => {
    const rows = rowsOf(ttlRemove());
    expect(rows.map((r) => [r.pk, r.sk, r.attribute, r.item_index, r.key, r.value, r.value_type, r.event_name, r.customer_id, r.sequence, r.event_time, r.dt])).toEqual([
      ['SESSION#abc123', '2026-11-27', 'items', 0, 'sku', 'x-1', 'S', 'EXPIRE', 'C7', SEQUENCE, AT, '2026-11-27'],
      ['SESSION#abc123', '2026-11-27', 'items', 0, 'qty', '2', 'N', 'EXPIRE', 'C7', SEQUENCE, AT, '2026-11-27'],
      // tags is missing from the old image: an ABSENT row, as in any image.
      ['SESSION#abc123', '2026-11-27', 'tags', null, null, null, 'ABSENT', 'EXPIRE', 'C7', SEQUENCE, AT, '2026-11-27'],
    ]);
    // The same rows an image of that item gives, but for the event name: nothing of what expired is lost.
    const batch = new RowBatch(config.carry);
    new Flattener(config).appendImage(batch, OLD_IMAGE, { eventName: 'MODIFY', eventTime: Date.parse(AT), sequence: SEQUENCE }, 'image');
    expect(rows.map((r) => ({ ...r, event_name: 'MODIFY' }))).toEqual([...batch.rows()]);
  });

  it('with no old image (a KEYS_ONLY or NEW_IMAGE stream): EXPIRE tombstones, one per exploded attribute', () => {
    const record = ttlRemove({ StreamViewType: 'KEYS_ONLY' });
    delete record.dynamodb!.OldImage;
    expect(rowsOf(record).map((r) => [r.pk, r.sk, r.attribute, r.value, r.value_type, r.event_name, r.customer_id, r.sequence])).toEqual([
      ['SESSION#abc123', '2026-11-27', 'items', null, 'ABSENT', 'EXPIRE', null, SEQUENCE],
      ['SESSION#abc123', '2026-11-27', 'tags', null, 'ABSENT', 'EXPIRE', null, SEQUENCE],
    ]);
  });

  it("a user's REMOVE (no userIdentity), and one by any other identity, stays a REMOVE tombstone", () => {
    const user = ttlRemove();
    delete user.userIdentity;
    const other = { ...ttlRemove(), userIdentity: { type: 'Service', principalId: 'replication.dynamodb.amazonaws.com' } };
    for (const record of [user, other]) {
      expect(rowsOf(record).map((r) => [r.attribute, r.value, r.value_type, r.event_name, r.customer_id, r.sequence])).toEqual([
        ['items', null, 'ABSENT', 'REMOVE', 'C7', SEQUENCE],
        ['tags', null, 'ABSENT', 'REMOVE', 'C7', SEQUENCE],
      ]);
    }
  });

  it('a userIdentity on anything but a REMOVE changes nothing', () => {
    const insert = { ...ttlRemove({ NewImage: OLD_IMAGE }), eventName: 'INSERT' };
    expect(new Set(rowsOf(insert).map((r) => r.event_name))).toEqual(new Set(['INSERT']));
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
