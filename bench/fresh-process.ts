import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleHandler, REPO_ROOT } from '../modules/lambda-bundle.ts';
import { median } from './measure.ts';

/**
 * Figures taken from fresh node processes: the Lambda bundle's size and cold
 * init, and the synth of the whole stack. Wall time of each child, spawn to
 * exit, on the Node that runs the bench.
 */

/** What the deployed function gets from the module: a valid handler environment. */
export const HANDLER_ENV: Readonly<Record<string, string>> = {
  LAKE_BUCKET: 'bench-lake-bucket',
  LAKE_PREFIX: 'flattened',
  QUARANTINE_PREFIX: 'quarantine',
  EXPLODE_ATTRIBUTES: 'items',
  PARTITION_KEY: 'pk',
  CARRY_ATTRIBUTES: 'customer_id',
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'orders-flatten',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  POWERTOOLS_SERVICE_NAME: 'ddb-flatten',
};

/** Environment for children: the parent's, minus anything that would change what they load or configure. */
function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['NODE_OPTIONS', 'FLATTEN_CONFIG', 'NODE_V8_COVERAGE']) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('FLATTEN_') && !(name in extra)) delete env[name];
  return env;
}

/** Wall milliseconds of `node args...`, which must exit 0. */
export function timeNode(args: readonly string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): number {
  const t = performance.now();
  const child = spawnSync(process.execPath, args, { env, cwd, encoding: 'utf8', maxBuffer: 1 << 24 });
  const ms = performance.now() - t;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status ?? child.signal}:\n${child.stderr}`);
  return ms;
}

export interface BundleResult {
  readonly zipBytes: number;
  readonly codeBytes: number;
  /** Median wall time of `node empty.mjs`. */
  readonly bareNodeMs: number;
  /** Median wall time of `node index.mjs` (the bundled handler's entry chunk and what it imports statically; not the action chunks). */
  readonly importMs: number;
  /** importMs - bareNodeMs: what importing the handler adds to a cold start. */
  readonly coldInitMs: number;
  readonly runs: number;
}

/**
 * Builds the Lambda bundle as `npm run bundle` does, then times a bare node
 * start and an import of the bundle in fresh processes, alternately, `runs`
 * times each (after one unmeasured run of each to warm the file cache).
 */
export function measureBundle(runs: number): BundleResult {
  const bundle = bundleHandler();
  const dir = mkdtempSync(join(tmpdir(), 'ddbf-bench-bundle-'));
  try {
    const handler = join(dir, 'index.mjs');
    const bare = join(dir, 'empty.mjs');
    for (const file of bundle.files) {
      mkdirSync(dirname(join(dir, file.name)), { recursive: true });
      writeFileSync(join(dir, file.name), file.data);
    }
    writeFileSync(bare, 'export {};\n');
    const env = childEnv(HANDLER_ENV);
    const bareMs: number[] = [];
    const importMs: number[] = [];
    for (let i = -1; i < runs; i++) {
      const b = timeNode([bare], env, dir);
      const h = timeNode([handler], env, dir);
      if (i < 0) continue;
      bareMs.push(b);
      importMs.push(h);
    }
    const bareNodeMs = median(bareMs);
    const imported = median(importMs);
    return { zipBytes: bundle.zip.length, codeBytes: bundle.code.length, bareNodeMs, importMs: imported, coldInitMs: imported - bareNodeMs, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SynthResult {
  /** Median wall time of `node stacks/main.ts` (cdktf synth's app command), bundling included. */
  readonly ms: number;
  readonly runs: number;
}

/** `node stacks/main.ts` in fresh processes, output to a temporary directory. */
export function measureSynth(runs: number): SynthResult {
  const dir = mkdtempSync(join(tmpdir(), 'ddbf-bench-synth-'));
  try {
    const env = childEnv({ CDKTF_OUTDIR: dir, AWS_REGION: 'us-east-1' });
    timeNode(['stacks/main.ts'], env);
    const ms = Array.from({ length: runs }, () => timeNode(['stacks/main.ts'], env));
    return { ms: median(ms), runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
