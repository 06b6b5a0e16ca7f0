import { createReadStream, writeFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';

/**
 * The child process of the CLI benchmarks, so each measurement starts from a
 * fresh heap and its peak memory is its own:
 *
 *   node bench/child.ts REPORT cli ARGS...   runs `ddb-flatten ARGS...` (src/cli/main.ts, what bin/ddb-flatten.mjs runs)
 *   node bench/child.ts REPORT parse FILE    the baseline: read + gunzip + JSON.parse of every line, nothing else
 *
 * Both write {ms, maxRssBytes, exitCode, lines?} as JSON to REPORT. `ms` is
 * the work alone, timed in the child after its modules are loaded; node's
 * start is left out of both sides of the ratio. `maxRssBytes` is the
 * kernel's high-water mark of this process's resident set
 * (getrusage ru_maxrss via process.resourceUsage()), read at the end: no
 * sampling gaps, no dependency on GNU time, the same on Linux and macOS.
 */

export interface ChildReport {
  readonly ms: number;
  readonly maxRssBytes: number;
  readonly exitCode: number;
  /** Lines parsed (parse mode). */
  readonly lines?: number;
}

/** Plain reading of an export file: gunzip, split lines, JSON.parse each; the fastest obvious code. */
export async function parseLines(path: string): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lines = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(createGunzip())) {
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (nl > start) {
        JSON.parse(text.slice(start, nl));
        lines++;
      }
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.trim() !== '') {
    JSON.parse(rest);
    lines++;
  }
  return lines;
}

async function run(mode: string, args: string[]): Promise<Omit<ChildReport, 'maxRssBytes'>> {
  if (mode === 'parse') {
    const t = performance.now();
    const lines = await parseLines(args[0]!);
    return { ms: performance.now() - t, exitCode: 0, lines };
  }
  if (mode === 'cli') {
    const { main } = await import('../src/cli/main.ts');
    const t = performance.now();
    const exitCode = await main(args);
    return { ms: performance.now() - t, exitCode };
  }
  throw new Error(`bench/child.ts: unknown mode ${mode}`);
}

if (import.meta.main) {
  const [report, mode, ...args] = process.argv.slice(2);
  const result = await run(mode!, args);
  const out: ChildReport = { ...result, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  writeFileSync(report!, JSON.stringify(out));
  process.exitCode = result.exitCode;
}
