import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttributeValue, Item } from '../src/flatten/attribute-value.ts';
import { compareNumberText, compareText } from '../src/flatten/decimal.ts';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendSnapshotItem } from '../src/flatten/stream-record.ts';
import { unflatten, type LeafRow } from '../src/flatten/unflatten.ts';
import { encodeParquet } from '../src/lake/parquet-writer.ts';
import { readParquetWithDuckdb } from './support/duckdb.ts';

/**
 * Lossless, proven: for arbitrary attribute values, rebuilding the value
 * from its rows gives the value back, directly and after a trip through
 * the Parquet encoder and a real reader (DuckDB).
 */

// ---- generators ---------------------------------------------------------

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** DynamoDB number text: up to 38 significant digits, magnitudes from 1E-130 to 9.9E+125, kept verbatim. */
const numberText = fc.oneof(
  fc.tuple(fc.constantFrom('', '-'), digits(1, 38)).map(([s, d]) => `${s}${d}`),
  fc.tuple(fc.constantFrom('', '-'), digits(1, 19), digits(1, 19)).map(([s, a, b]) => `${s}${a}.${b}`),
  fc.tuple(fc.constantFrom('', '-'), fc.integer({ min: 1, max: 9 }), digits(0, 37), fc.integer({ min: -130, max: 125 })).map(
    ([s, lead, rest, e]) => `${s}${lead}${rest ? `.${rest}` : ''}E${e >= 0 ? '+' : ''}${e}`,
  ),
  fc.constantFrom('0', '-0', '1E-130', '9.9999999999999999999999999999999999999E+125', '12345678901234567890123456789012345678'),
);

/** Names with unicode and every character the path syntax reserves, plus hostile ones. */
const name = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('a', '.', '[', ']', '\\', '0', ' ', 'é', '𝄞'), maxLength: 8 }),
  fc.constantFrom('', '__proto__', 'constructor', 'a.b', '[0]', '\\', 'key1'),
);

const base64 = fc.uint8Array({ minLength: 1, maxLength: 24 }).map((b) => Buffer.from(b).toString('base64'));
const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constantFrom('', '{}', '[]', 'null', 'true'));

const scalar: fc.Arbitrary<AttributeValue> = fc.oneof(
  text.map((S) => ({ S })),
  numberText.map((N) => ({ N })),
  base64.map((B) => ({ B })),
  fc.boolean().map((BOOL) => ({ BOOL })),
  fc.constant({ NULL: true as const }),
  fc.uniqueArray(text, { minLength: 1, maxLength: 5 }).map((SS) => ({ SS })),
  fc.uniqueArray(numberText, { minLength: 1, maxLength: 5 }).map((NS) => ({ NS })),
  fc.uniqueArray(base64, { minLength: 1, maxLength: 4 }).map((BS) => ({ BS })),
);

const { value } = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }).map((L) => ({ L })),
    fc.uniqueArray(fc.tuple(name, tie('value')), { maxLength: 4, selector: ([k]) => k }).map((entries) => ({ M: mapOf(entries) })),
  ),
}));

/** Wraps a value in 8 to 12 levels of maps and lists, so deep nesting is always covered. */
const deep = fc
  .tuple(value, fc.array(fc.tuple(fc.boolean(), name), { minLength: 8, maxLength: 12 }))
  .map(([inner, levels]) => levels.reduce<AttributeValue>((acc, [asList, k]) => (asList ? { L: [acc] } : { M: mapOf([[k, acc]]) }), inner));

/** What the exploded attribute usually is: a list of maps like the seed's, sometimes anything at all. */
const exploded = fc.oneof(
  fc.array(fc.uniqueArray(fc.tuple(name, value), { maxLength: 5, selector: ([k]) => k }).map((e) => ({ M: mapOf(e) })), { maxLength: 6 }).map((L) => ({ L }) as AttributeValue),
  value,
  deep,
);

function mapOf(entries: readonly (readonly [string, AttributeValue])[]): Record<string, AttributeValue> {
  const M: Record<string, AttributeValue> = {};
  for (const [k, v] of entries) Object.defineProperty(M, k, { value: v, enumerable: true, writable: true, configurable: true });
  return M;
}

// ---- expectations -------------------------------------------------------

/** Sets are unordered in DynamoDB; the engine writes members sorted, so compare in that order. */
function normalize(av: AttributeValue): AttributeValue {
  if ('SS' in av) return { SS: [...av.SS].sort(compareText) };
  if ('NS' in av) return { NS: [...av.NS].sort(compareNumberText) };
  if ('BS' in av) return { BS: (av.BS as string[]).map((b) => Buffer.from(b, 'base64')).sort(Buffer.compare).map((b) => b.toString('base64')) };
  if ('L' in av) return { L: av.L.map(normalize) };
  if ('M' in av) return { M: mapOf(Object.entries(av.M).map(([k, v]) => [k, normalize(v)])) };
  return av;
}

function flatten(attribute: AttributeValue): RowBatch {
  const batch = new RowBatch();
  const item: Item = { pk: { S: 'p' } };
  item.items = attribute;
  appendSnapshotItem(new Flattener({ attributes: ['items'], partitionKey: 'pk', carry: [] }), batch, item, Date.UTC(2026, 0, 1), 'property');
  return batch;
}

const tmp = mkdtempSync(join(tmpdir(), 'ddbf-prop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('unflatten(flatten(x)) = x', () => {
  it('for arbitrary exploded values: every type, deep nesting, empty containers, extreme numbers, unicode and reserved names', () => {
    fc.assert(
      fc.property(exploded, (x) => {
        expect(unflatten([...flatten(x).rows()])).toEqual(normalize(x));
      }),
      { numRuns: 1500 },
    );
  });

  it('through Parquet and back with DuckDB', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(exploded, async (x) => {
        const file = join(tmp, `p${n++}.parquet`);
        writeFileSync(file, encodeParquet(flatten(x)));
        const rows = (await readParquetWithDuckdb(file)) as unknown as LeafRow[];
        expect(unflatten(rows)).toEqual(normalize(x));
      }),
      { numRuns: 60 },
    );
  });

  it('for items near the 400 KB item size limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 300, max: 390 }), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), (kb, ch) => {
        const element = (i: number): AttributeValue => ({ M: { sku: { S: `SKU-${i}` }, note: { S: ch.repeat(1000) }, qty: { N: String(i) } } });
        const x: AttributeValue = { L: Array.from({ length: kb }, (_, i) => element(i)) };
        const size = JSON.stringify(x).length;
        expect(size).toBeGreaterThan(300_000);
        expect(unflatten([...flatten(x).rows()])).toEqual(x);
      }),
      { numRuns: 5 },
    );
  });
});
