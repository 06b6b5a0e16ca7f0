import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCli } from '../scripts/build-cli.ts';
import { REPO_ROOT } from '../modules/lambda-bundle.ts';
import { CLI_MAIN, exportLines, runNode, runProcess } from './support/cli.ts';
import { copyLake, workload, writeStream } from './support/maintenance-lake.ts';

/**
 * The bundled CLI (what an installed package runs) behaves exactly as the sources do. It is built
 * inside the repository (.gen/, ignored), as an installed package sits inside a project: the optional
 * DuckDB package that compact --lake loads resolves from the node_modules above it.
 */
mkdirSync(join(REPO_ROOT, '.gen'), { recursive: true });
const dir = mkdtempSync(join(REPO_ROOT, '.gen', 'cli-bundle-'));
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
  it('is the CLI, the worker it starts beside itself, and the chunks it loads on first use', () => {
    const names = files.map((f) => f.slice(join(dir, 'dist').length + 1)).sort();
    expect(names.filter((f) => !f.startsWith('chunks/'))).toEqual(['ddb-flatten.mjs', 'flatten-worker.mjs']);
    // DuckDB (compact --lake) is loaded by a chunk only: the other commands run without the optional package.
    const entry = files.find((f) => f.endsWith('/ddb-flatten.mjs'))!;
    expect(readFileSync(entry, 'utf8')).not.toMatch(/from\s*["']@duckdb\/node-api["']/);
    expect(files.filter((f) => f.includes('/chunks/')).some((f) => /["']@duckdb\/node-api["']/.test(readFileSync(f, 'utf8')))).toBe(true);
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
    /** The report without the two lines that name the folder, and with the checkpoint's id (a random nonce in its hash) as ID. */
    const report = (stdout: Buffer) => {
      // The checkpoint's id and each query's token carry a random nonce; the checkpoint's rows are in no set
      // order (its statement does not sort), so its bytes may differ by a few: its object count is compared.
      const r = JSON.parse(stdout.toString().replace(/\d{4}-\d{2}-\d{2}-[0-9a-f]{16}/g, 'ID').replace(/("query": "[^"]*):[0-9a-f]{8}"/g, '$1:NONCE"'));
      return { ...r, location: undefined, state: undefined, view: { before: r.view.before, after: { ...r.view.after, bytes: undefined, checkpoint: { objects: r.view.after.checkpoint.objects } } } };
    };

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

    it.skipIf(!node20())('runs on Node.js 20 too: DuckDB, not Node, reads the ZSTD objects', async () => {
      const [a, b] = [copyLake(lake), copyLake(lake)];
      const r = await runProcess(node20()!, [bundled, ...COMPACT, '--lake', a]);
      expect(r.stderr.toString()).toBe('');
      expect(r.code).toBe(0);
      expect(report(r.stdout)).toEqual(report((await runNode(CLI_MAIN, [...COMPACT, '--lake', b])).stdout));
    });
  });
});
