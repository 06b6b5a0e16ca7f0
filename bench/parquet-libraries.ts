import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm';
import parquetjs from '@dsnp/parquetjs';
import type { RowBatch } from '../src/flatten/row-batch.ts';
import { encodeParquet } from '../src/lake/parquet-writer.ts';
import { dataColumns } from '../src/schema/row-schema.ts';
import { median, timeIt } from './measure.ts';

/**
 * The Parquet library choice, by measurement: the same rows through each
 * candidate, measured side by side. Bundle bytes are what each adds to the
 * Lambda zip (esbuild, minified, gzipped; wasm included).
 */

export interface LibraryResult {
  readonly library: string;
  readonly rowsPerSecond: number;
  readonly bytesOut: number;
  readonly bundleBytes: number;
  readonly note: string;
}

/** Plain per-row column arrays, which is what generic writers take. */
function plainColumns(batch: RowBatch): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const c of dataColumns(batch.carried)) out[c.name] = [];
  for (const row of batch.rows()) {
    for (const c of dataColumns(batch.carried)) {
      out[c.name]!.push(c.name === 'event_time' ? new Date(row.event_time) : row[c.name]);
    }
  }
  return out;
}

function hyparquetWrite(columns: Record<string, unknown[]>, carried: readonly string[]): number {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: dataColumns(carried).map((c) => ({
      name: c.name,
      data: columns[c.name]!,
      type: c.parquet === 'STRING' ? 'STRING' : c.parquet === 'INT32' ? 'INT32' : 'TIMESTAMP',
      nullable: c.nullable,
    })) as never,
  });
  return writer.getBuffer().byteLength;
}

function parquetWasmWrite(columns: Record<string, unknown[]>): number {
  const arrays: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(columns)) {
    arrays[name] = name === 'item_index' ? Int32Array.from(values as number[], (v) => v ?? 0) : name === 'event_time' ? (values as Date[]).map((d) => d.getTime()) : values;
  }
  const table = tableFromArrays(arrays as Record<string, unknown[]>) as unknown as Parameters<typeof tableToIPC>[0];
  const wasmTable = parquetWasm.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new parquetWasm.WriterPropertiesBuilder().setCompression(parquetWasm.Compression.ZSTD).build();
  return parquetWasm.writeParquet(wasmTable, props).byteLength;
}

async function parquetjsWrite(columns: Record<string, unknown[]>, carried: readonly string[]): Promise<number> {
  const fields: Record<string, { type: string; optional?: boolean; compression?: string }> = {};
  for (const c of dataColumns(carried)) {
    fields[c.name] = { type: c.parquet === 'STRING' ? 'UTF8' : c.parquet === 'INT32' ? 'INT32' : 'TIMESTAMP_MILLIS', optional: c.nullable, compression: 'SNAPPY' };
  }
  const schema = new parquetjs.ParquetSchema(fields as never);
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb();
    },
  });
  const writer = await parquetjs.ParquetWriter.openStream(schema, sink as never);
  const names = Object.keys(columns);
  const n = columns[names[0]!]!.length;
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (const name of names) {
      const v = columns[name]![i];
      if (v !== null && v !== undefined) row[name] = v;
    }
    await writer.appendRow(row);
  }
  await writer.close();
  return bytes;
}

/** Gzipped bytes of an esbuild bundle of the given entry: what a library adds to the Lambda zip. */
async function bundleBytes(entrySource: string): Promise<number> {
  const result = await build({
    stdin: { contents: entrySource, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    minify: true,
    treeShaking: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    write: false,
    logLevel: 'silent',
    loader: { '.wasm': 'file' },
    outdir: '/tmp/ddbf-bundle-probe',
  });
  return result.outputFiles.reduce((total, f) => total + gzipSync(f.contents).length, 0);
}

export async function compareParquetLibraries(batch: RowBatch, runs = 5): Promise<LibraryResult[]> {
  const columns = plainColumns(batch);
  const rows = batch.length;
  const require = createRequire(import.meta.url);
  const wasmFile = require.resolve('parquet-wasm/node/parquet_wasm_bg.wasm');
  const results: LibraryResult[] = [];

  const ours = await timeIt(runs, () => encodeParquet(batch).length);
  results.push({
    library: 'ddb-flatten encoder (ours)',
    rowsPerSecond: rows / (median(ours.ms) / 1000),
    bytesOut: ours.result,
    bundleBytes: await bundleBytes(`import { encodeParquet } from './src/lake/parquet-writer.ts'; console.log(encodeParquet);`),
    note: 'column-fed, dictionary per version, ZSTD via node:zlib',
  });
  const hyp = await timeIt(runs, () => hyparquetWrite(columns, batch.carried));
  results.push({
    library: 'hyparquet-writer',
    rowsPerSecond: rows / (median(hyp.ms) / 1000),
    bytesOut: hyp.result,
    bundleBytes: await bundleBytes(`import { parquetWrite } from 'hyparquet-writer'; console.log(parquetWrite);`),
    note: 'pure JS, Snappy',
  });
  const wasm = await timeIt(runs, () => parquetWasmWrite(columns));
  results.push({
    library: 'parquet-wasm + apache-arrow',
    rowsPerSecond: rows / (median(wasm.ms) / 1000),
    bytesOut: wasm.result,
    bundleBytes: (await bundleBytes(`import { tableFromArrays, tableToIPC } from 'apache-arrow'; console.log(tableFromArrays, tableToIPC);`)) + statSync(wasmFile).size,
    note: `ZSTD; includes the ${(statSync(wasmFile).size / 1e6).toFixed(1)} MB wasm (uncompressed)`,
  });
  const pjs = await timeIt(Math.min(runs, 2), () => parquetjsWrite(columns, batch.carried));
  results.push({
    library: '@dsnp/parquetjs',
    rowsPerSecond: rows / (median(pjs.ms) / 1000),
    bytesOut: pjs.result,
    bundleBytes: await bundleBytes(`import p from '@dsnp/parquetjs'; console.log(p.ParquetWriter);`),
    note: 'row-by-row API, Snappy',
  });
  return results;
}
