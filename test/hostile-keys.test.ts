import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { createStreamHandler } from '../handlers/stream.ts';
import { loadPipelineConfig } from '../src/config/pipeline-config.ts';
import { DirectorySink } from '../src/lake/sink.ts';
import { partitionKey } from '../src/lake/object-key.ts';
import { queryLakeFolder } from './support/duckdb.ts';
import { streamEvent, type Change } from './support/stream-events.ts';

/**
 * Item content never steers where an object lands: keys are built from the
 * validated prefix, the dt of the event time and sequence numbers or hashes.
 * The lake here is a folder with the bucket's layout, so an escape would be
 * a file outside it.
 */
const tmp = mkdtempSync(join(tmpdir(), 'ddbf-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const context = { functionName: 'hostile' } as Context;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => relative(dir, f).split(sep).join('/'))
    .sort();
}

const hostilePks = ['../../x', '/etc/passwd', 'a/b/c', 'line\nbreak', 'tab\there', 'dt=2020-01-01/evil', '..', 'x'.repeat(2048), '%2e%2e%2f', 'C:\\windows', '\u0000nul', '🚀/../🚀'];

describe('hostile item content', () => {
  it('never escapes the prefix, and is stored verbatim as data', async () => {
    const lake = join(tmp, 'lake');
    const config = loadPipelineConfig({ LAKE_BUCKET: 'lake-bucket', LAKE_PREFIX: 'tenant/flat', QUARANTINE_PREFIX: 'tenant/quarantine', EXPLODE_ATTRIBUTES: 'items', PARTITION_KEY: 'pk', SORT_KEY: 'sk' });
    const handler = createStreamHandler({ config, sink: new DirectorySink(lake), logger: new Logger({ logLevel: 'SILENT' }), writeMetrics: () => {} });
    let sequence = 10n ** 22n;
    const changes: Change[] = hostilePks.map((pk, i) => ({
      eventName: 'INSERT',
      keys: { pk: { S: pk }, sk: { S: `../${i}` } },
      newImage: { pk: { S: pk }, sk: { S: `../${i}` }, items: { L: [{ M: { '../k': { S: '../v' } } }] } },
      at: 1764237600 + i,
      sequence: sequence++,
    }));
    // A poison record with a hostile key goes to quarantine, also inside its prefix.
    changes.push({ eventName: 'INSERT', keys: { pk: { S: '../../quarantine-escape' } }, newImage: { pk: { S: '../../q' }, items: { Z: '1' } } as never, at: 1764237600, sequence: sequence++ });
    expect(await handler(streamEvent(changes), context)).toEqual({ batchItemFailures: [] });

    const files = filesUnder(lake);
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^tenant\/flat\/dt=2025-11-27\/\d+-\d+-[0-9a-f]{16}\.parquet$/);
    expect(files[1]).toMatch(/^tenant\/quarantine\/dt=\d{4}-\d{2}-\d{2}\/\d+-[0-9a-f]{16}\.json$/);

    const rows = await queryLakeFolder(join(lake, 'tenant'), 'flat', [], 'SELECT pk, sk, key, value FROM flattened ORDER BY sk');
    expect(rows.map((r) => r.pk).sort()).toEqual([...hostilePks].sort());
    expect(new Set(rows.map((r) => `${r.key}=${r.value}`))).toEqual(new Set(['\\.\\./k=../v']));
  });

  it('rejects object names and dates that could form a path', () => {
    expect(() => partitionKey('p', '../2020-01-01', 'x')).toThrow(/not YYYY-MM-DD/);
    expect(() => partitionKey('p', '2020-01-01', '../x')).toThrow(/characters outside/);
    expect(() => partitionKey('p', '2020-01-01', '.hidden')).toThrow(/characters outside/);
    expect(() => new DirectorySink(tmp).path('../outside')).toThrow(/escapes the lake folder/);
  });
});
