import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, exportLines, parseJsonl, runNode, tempDir } from './support/cli.ts';
import { readParquetWithDuckdb } from './support/duckdb.ts';

/** Worker threads change how fast the CLI runs, never what it writes or how it reports bad input. */
const dir = tempDir('cli-threads');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = ['flatten', '--attributes', 'items', '--partition-key', 'pk', '--snapshot-time', '2026-01-01T00:00:00Z'];
// About 12 MB of lines: several blocks, so several workers take part.
const items = Array.from({ length: 70_000 }, (_, i) => ({
  pk: { S: `P${i}` },
  items: { L: [{ M: { sku: { S: `S${i % 97}` }, n: { N: `${i}.5` }, note: { S: 'x'.repeat(i % 50) } } }, { L: [] }, { NS: ['3', '1', '2'] }] },
}));
const input = join(dir, 'export.json.gz');
writeFileSync(input, gzipSync(exportLines(items)));

describe('ddb-flatten flatten --threads', () => {
  it('writes byte-identical Parquet with 1 and with 3 threads', async () => {
    const outs = [];
    for (const threads of ['1', '3']) {
      const out = join(dir, `t${threads}.parquet`);
      const r = await runNode(CLI_MAIN, [...BASE, '--format', 'parquet', '--threads', threads, '--out', out, input]);
      expect(r.stderr).toContain('70,000 items → 490,000 rows');
      expect(r.code).toBe(0);
      outs.push(readFileSync(out));
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(true);
    const rows = await readParquetWithDuckdb(join(dir, 't3.parquet'));
    expect(rows).toHaveLength(490_000);
    expect(rows.filter((r) => r.value_type === 'NS').map((r) => r.value).slice(0, 3)).toEqual(['1', '2', '3']);
  });

  it('writes the same JSONL with 1 and with 2 threads, in input order', async () => {
    const [one, two] = await Promise.all(['1', '2'].map((t) => runNode(CLI_MAIN, [...BASE, '--threads', t, input])));
    expect(one!.code).toBe(0);
    expect(two!.stdout.equals(one!.stdout)).toBe(true);
    const rows = parseJsonl(one!.stdout);
    expect(rows[0]).toMatchObject({ pk: 'P0', item_index: 0, key: 'sku' });
    expect(rows[rows.length - 1]).toMatchObject({ pk: 'P69999', item_index: 2 });
  });

  it('reports a bad line deep in the input with its exact line number, and leaves no --out file', async () => {
    const bad = join(dir, 'bad.json.gz');
    writeFileSync(bad, gzipSync(`${exportLines(items.slice(0, 55_000))}{"Item":{"pk":{"S":"x"},"items":{"Q":"1"}}}\n${exportLines(items.slice(55_000))}`));
    const out = join(dir, 'bad.parquet');
    const r = await runNode(CLI_MAIN, [...BASE, '--format', 'parquet', '--threads', '3', '--out', out, bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:55001: attribute "items": unknown type descriptor "Q"`);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.parquet') || f.startsWith('.bad.parquet'))).toEqual([]);
  });

  it('refuses a thread count out of range, naming the flag', async () => {
    const r = await runNode(CLI_MAIN, [...BASE, '--threads', '0', input]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--threads must be a whole number from 1 to 32, got "0"');
  });
});
