import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCli } from '../scripts/build-cli.ts';
import { CLI_MAIN, exportLines, runNode, runProcess, tempDir } from './support/cli.ts';
import { copyLake, workload, writeStream } from './support/maintenance-lake.ts';

/** The bundled CLI (what an installed package runs) behaves exactly as the sources do. */
const dir = tempDir('cli-bundle');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = buildCli(join(dir, 'dist'));
const bundled = files.find((f) => f.endsWith('ddb-flatten.mjs'))!;

const items = Array.from({ length: 40_000 }, (_, i) => ({ pk: { S: `P${i}` }, items: { L: [{ M: { sku: { S: `S${i % 13}` }, note: { S: 'n'.repeat(i % 90) } } }] } }));
const input = join(dir, 'export.jsonl');
writeFileSync(input, exportLines(items));
const ARGS = ['flatten', '--attributes', 'items', '--partition-key', 'pk', '--snapshot-time', '2026-01-01T00:00:00Z', '--threads', '2', input];

/** A Node.js 20 on this machine other than the one running the tests, to prove the bundle needs no type stripping. */
function node20(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    const v = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (v.status === 0 && v.stdout.startsWith('v20.')) return candidate;
  }
  return undefined;
}

describe('the bundled CLI (dist/cli)', () => {
  it('is two files: the CLI and the worker it starts beside itself', () => {
    expect(files.map((f) => f.split('/').pop()).sort()).toEqual(['ddb-flatten.mjs', 'flatten-worker.mjs']);
  });

  it('writes exactly what the sources write, with worker threads', async () => {
    const fromSource = await runNode(CLI_MAIN, ARGS);
    const fromBundle = await runNode(bundled, ARGS);
    expect(fromSource.code).toBe(0);
    expect(fromBundle.code).toBe(0);
    expect(fromBundle.stdout.length).toBeGreaterThan(1_000_000);
    expect(fromBundle.stdout.equals(fromSource.stdout)).toBe(true);
  });

  it.skipIf(!node20())('runs on Node.js 20, which cannot run the TypeScript sources', async () => {
    const r = await runProcess(node20()!, [bundled, ...ARGS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.equals((await runNode(CLI_MAIN, ARGS)).stdout)).toBe(true);
  });

  describe('compact', () => {
    const lake = join(dir, 'lake');
    const COMPACT = ['compact', '--now', '2026-11-21T08:00:00Z', '--format', 'json'];
    /** The report without the two lines that name the folder. */
    const report = (stdout: Buffer) => ({ ...JSON.parse(stdout.toString()), location: undefined, state: undefined });

    it('compacts and checkpoints a lake exactly as the sources do', async () => {
      await writeStream(lake, workload(400, 60, 3, Date.UTC(2026, 10, 20)).records, 20, 0);
      const [a, b] = [copyLake(lake), copyLake(lake)];
      const fromSource = await runNode(CLI_MAIN, [...COMPACT, '--lake', a]);
      const fromBundle = await runNode(bundled, [...COMPACT, '--lake', b]);
      expect(fromBundle.stderr).toBe('');
      expect(fromBundle.code).toBe(0);
      expect(report(fromBundle.stdout)).toMatchObject({ days: [{ status: 'compacted', objectsAfter: 1 }], checkpoint: { status: 'written' } });
      expect(report(fromBundle.stdout)).toEqual(report(fromSource.stdout));
    });

    // The lake's objects are ZSTD, which node:zlib decodes from Node.js 22.15 on: on Node.js 20 the command says so.
    it.skipIf(!node20())('on Node.js 20 it loads, and refuses ZSTD objects with the reason', async () => {
      const r = await runProcess(node20()!, [bundled, ...COMPACT, '--lake', copyLake(lake)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ddb-flatten: this Node\.js \(v20\.[\d.]+\) cannot read ZSTD Parquet, which the lake's objects are .*: run ddb-flatten on Node\.js 22\.15 or newer\n$/);
    });
  });
});
