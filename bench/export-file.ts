import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import type { AttributeValue, Item } from '../src/flatten/attribute-value.ts';

/**
 * Synthetic DynamoDB export files (DYNAMODB_JSON lines, gzipped, as the
 * export to S3 writes them) for the CLI benchmarks. Content is a pure
 * function of the item number, so every run measures the same bytes, and a
 * file of n items is the first n items of any larger one.
 *
 * Items are orders shaped like the seed's table: a partition key and an
 * `items` list of maps (1-7 lines, about 3 on average), each line with
 * strings, numbers, a boolean, a string set, a nested map and sometimes a
 * NULL; plus top-level attributes that are carried (customer_id) or not
 * exploded (shipping address, status). About 1.3 KB of JSON per item.
 */

export const EXPORT_FLATTEN_ARGS = ['--attributes', 'items', '--partition-key', 'pk', '--carry', 'customer_id'] as const;

const WORDS = (
  'classic slim organic cotton wool linen merino denim leather canvas travel city trail running winter summer ' +
  'compact deluxe wireless portable ceramic steel bamboo recycled vintage modern rugged soft lightweight ' +
  'jacket shirt sneaker backpack lamp kettle mug blanket scarf headphones charger bottle notebook pan chair'
).split(' ');
const CITIES = ['Berlin', 'Lisbon', 'Dublin', 'Austin', 'Osaka', 'Toronto', 'Lyon', 'Krakow', 'Porto', 'Seattle', 'Utrecht', 'Leeds'];
const COUNTRIES = ['DE', 'PT', 'IE', 'US', 'JP', 'CA', 'FR', 'PL', 'PT', 'US', 'NL', 'GB'];
const STATUSES = ['PLACED', 'PAID', 'PACKED', 'SHIPPED', 'DELIVERED', 'RETURNED'];
const COLORS = ['black', 'white', 'navy', 'olive', 'sand', 'red', 'grey', 'teal'];
const TAGS = ['sale', 'new', 'eco', 'bestseller', 'limited', 'bundle', 'clearance', 'gift-wrap'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY', 'CAD', 'PLN'];

/** mulberry32: a small, fast, seedable PRNG; seeded per item so items do not depend on each other. */
function rngFor(seed: number): () => number {
  let a = (seed * 0x9e3779b1) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number | string): AttributeValue => ({ N: String(n) });

/** Order number n as a DynamoDB item. */
export function exportItem(n: number): Item {
  const r = rngFor(n + 1);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const lines = Math.min(7, 1 + Math.floor(-Math.log(1 - r()) * 2.2));
  const L: AttributeValue[] = [];
  for (let j = 0; j < lines; j++) {
    const words = Array.from({ length: int(2, 5) }, () => pick(WORDS)).join(' ');
    const line: Record<string, AttributeValue> = {
      sku: S(`SKU-${int(10000, 99999)}-${pick(COLORS).slice(0, 3).toUpperCase()}`),
      name: S(words.charAt(0).toUpperCase() + words.slice(1)),
      qty: N(int(1, 6)),
      unit_price: N(`${int(1, 499)}.${String(int(0, 99)).padStart(2, '0')}`),
      currency: S(pick(CURRENCIES)),
      gift: { BOOL: r() < 0.15 },
      attributes: { M: { color: S(pick(COLORS)), weight_g: N(int(50, 4000)), size: S(pick(['XS', 'S', 'M', 'L', 'XL', 'one-size'])) } },
    };
    const tagCount = int(0, 3);
    if (tagCount > 0) line.tags = { SS: [...new Set(Array.from({ length: tagCount }, () => pick(TAGS)))] };
    if (r() < 0.2) line.note = r() < 0.5 ? { NULL: true } : S(`Please leave at the ${pick(['door', 'reception', 'neighbour', 'back gate'])}, thanks`);
    L.push({ M: line });
  }
  const city = int(0, CITIES.length - 1);
  return {
    pk: S(`ORDER#${String(n).padStart(10, '0')}`),
    customer_id: S(`CUST#${String(int(1, 250_000)).padStart(7, '0')}`),
    created_at: S(new Date(Date.UTC(2025, 0, 1) + n * 1_370).toISOString()),
    status: S(pick(STATUSES)),
    total: N(`${int(5, 2500)}.${String(int(0, 99)).padStart(2, '0')}`),
    shipping: {
      M: {
        street: S(`${int(1, 250)} ${pick(WORDS)} street`),
        city: S(CITIES[city]!),
        postcode: S(String(int(10000, 99999))),
        country: S(COUNTRIES[city]!),
      },
    },
    items: { L },
  };
}

export function exportLine(n: number): string {
  return `${JSON.stringify({ Item: exportItem(n) })}\n`;
}

export interface ExportFile {
  readonly path: string;
  readonly items: number;
  /** Size on disk (gzip). */
  readonly gzipBytes: number;
  /** Size of the DynamoDB JSON lines before gzip. */
  readonly jsonBytes: number;
}

/** Items to reach about `gzipBytes` of gzip, from the gzip size of a fixed sample. */
export function itemsForGzipBytes(gzipBytes: number, sample = 5_000): number {
  let text = '';
  for (let n = 0; n < sample; n++) text += exportLine(n);
  return Math.max(1, Math.round((gzipBytes * sample) / gzipSync(text).length));
}

/**
 * Writes one gzipped export file per count, `export-<items>.json.gz` in dir,
 * in a single pass over the items: file i holds items 0..counts[i]-1.
 * Compression runs on libuv's thread pool, beside the JSON generation.
 */
export async function writeExportFiles(dir: string, counts: readonly number[]): Promise<ExportFile[]> {
  const outs = [...new Set(counts)]
    .sort((a, b) => a - b)
    .map((items) => {
      const path = join(dir, `export-${items}.json.gz`);
      const gzip = createGzip();
      const file = createWriteStream(path);
      gzip.pipe(file);
      return { items, path, gzip, file, jsonBytes: 0 };
    });
  const max = outs.at(-1)?.items ?? 0;
  const CHUNK = 2_000;
  for (let start = 0; start < max; start += CHUNK) {
    const end = Math.min(max, start + CHUNK);
    let text = '';
    const lengthAfter: number[] = [0];
    for (let n = start; n < end; n++) {
      text += exportLine(n);
      lengthAfter.push(text.length);
    }
    const drains: Promise<unknown>[] = [];
    for (const o of outs) {
      const need = Math.min(o.items, end) - start;
      if (need <= 0) continue;
      const part = need === end - start ? text : text.slice(0, lengthAfter[need]);
      o.jsonBytes += Buffer.byteLength(part);
      if (!o.gzip.write(part)) drains.push(once(o.gzip, 'drain'));
    }
    await Promise.all(drains);
  }
  await Promise.all(
    outs.map(async (o) => {
      o.gzip.end();
      await finished(o.file);
    }),
  );
  return outs.map((o) => ({ path: o.path, items: o.items, gzipBytes: statSync(o.path).size, jsonBytes: o.jsonBytes }));
}
