import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildSync } from 'esbuild';
import { NODE_BUNDLE, REPO_ROOT, sqlTemplatesDefine } from '../modules/lambda-bundle.ts';

/**
 * `npm run build:cli [dir]`: the `ddb-flatten` CLI as plain JavaScript, so
 * an installed package runs on any Node.js 20 or newer (Node does not run
 * TypeScript from node_modules). Two bundles side by side: the CLI and its
 * worker thread, which the CLI finds beside itself. Run on `npm pack`.
 */
export function buildCli(outdir: string = join(REPO_ROOT, 'dist/cli')): string[] {
  rmSync(outdir, { recursive: true, force: true });
  const result = buildSync({
    ...NODE_BUNDLE,
    entryPoints: { 'ddb-flatten': join(REPO_ROOT, 'src/cli/run.ts'), 'flatten-worker': join(REPO_ROOT, 'src/io/flatten-worker.ts') },
    define: sqlTemplatesDefine(),
    // DuckDB is a native addon: `compact --lake` loads it from the user's node_modules when it runs (an optional peer).
    external: ['@duckdb/node-api'],
    outdir,
    // Code loaded on first use (DuckDB's engine for compact --lake) goes in a chunk of its own, so that
    // the other commands never load the optional native DuckDB package.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    target: 'node20',
    metafile: true,
    logLevel: 'warning',
  });
  return Object.keys(result.metafile.outputs).map((f) => join(process.cwd(), f));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of buildCli(process.argv[2])) console.log(relative(process.cwd(), file));
}
