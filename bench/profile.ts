import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXPORT_FLATTEN_ARGS, itemsForGzipBytes, writeExportFiles } from './export-file.ts';
import { markdownTable } from './report.ts';

/**
 * `node bench/profile.ts [--gzip-mb 20] [--keep DIR]`: the CLI's time by
 * stage, from `node --cpu-prof`. It writes a bench export file of about
 * that gzip size, runs `ddb-flatten flatten --format parquet` on it in a
 * child under --cpu-prof, and sorts every sample into a stage by the
 * nearest project frame on its stack.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Stage of a project frame, by file; undefined for frames outside the project. */
function stageOfFrame(functionName: string, url: string): string | undefined {
  // JSON.parse is a builtin: its time shows as self time of the function that calls it
  if (url.endsWith('/src/io/export-lines.ts')) return functionName === 'parseExportLine' ? 'JSON.parse of each line (parseExportLine)' : 'export loop';
  if (url.endsWith('/src/io/lines.ts')) return 'line splitting, UTF-8 check, decode';
  if (url.includes('/src/flatten/')) return 'flatten (src/flatten)';
  if (url.endsWith('/src/lake/parquet/compress.ts')) return 'Parquet: page compression (ZSTD)';
  if (url.includes('/src/lake/')) return 'Parquet: encode (dictionaries, levels, pages, footer)';
  if (url.includes('/src/io/') || url.includes('/src/cli/')) return 'output and CLI';
  return undefined;
}
const VM = new Set(['(garbage collector)', '(idle)', '(program)']);

export function stagesOf(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = (id: number): string => {
    const leaf = byId.get(id)!.callFrame;
    if (VM.has(leaf.functionName)) return leaf.functionName;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      const stage = stageOfFrame(frame.functionName, frame.url);
      if (stage) return stage;
    }
    return leaf.url.startsWith('node:zlib') ? 'gunzip (node:zlib)' : 'other (node streams, module loading)';
  };
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const stage = stageOf(id);
    ms.set(stage, (ms.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return ms;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'gzip-mb': { type: 'string', default: '20' }, keep: { type: 'string' } } });
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'ddbf-profile-'));
  try {
    const [file] = await writeExportFiles(dir, [itemsForGzipBytes(Number(values['gzip-mb']) * 1e6)]);
    const child = fileURLToPath(new URL('./child.ts', import.meta.url));
    const out = join(dir, 'out.parquet');
    const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, child, join(dir, 'report.json'), 'cli', 'flatten', ...EXPORT_FLATTEN_ARGS, '--format', 'parquet', '--out', out, file!.path];
    const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`the profiled CLI run exited ${run.status}`);
    const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
    const stages = stagesOf(JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile);
    const total = [...stages.values()].reduce((a, b) => a + b, 0);
    console.log(`${file!.items.toLocaleString('en-US')} items, ${(file!.gzipBytes / 1e6).toFixed(1)} MB gzip${values.keep ? `; profile ${join(dir, name)}` : ''}\n`);
    console.log(
      markdownTable(
        ['stage', 'ms', 'share'],
        [...stages].sort((a, b) => b[1] - a[1]).map(([stage, t]) => [stage, t.toFixed(0), `${((100 * t) / total).toFixed(1)}%`]),
      ),
    );
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}
