import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { formatBytes } from './measure.ts';

/** One line of the bench table: a figure, what it measured, its target and whether it met it. */
export interface Figure {
  readonly id: string;
  readonly figure: string;
  readonly value: number;
  /** The value as printed. */
  readonly measured: string;
  /** The target as printed; '—' for figures reported without one. */
  readonly target: string;
  /** undefined for figures reported without a target. */
  readonly pass: boolean | undefined;
}

export type Comparison = '<=' | '>=';

/** A figure with a numeric target: `value <= limit` (or >=). */
export function targeted(id: string, figure: string, value: number, measured: string, op: Comparison, limit: number, target: string): Figure {
  return { id, figure, value, measured, target, pass: op === '<=' ? value <= limit : value >= limit };
}

export function info(id: string, figure: string, value: number, measured: string): Figure {
  return { id, figure, value, measured, target: '—', pass: undefined };
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly os: string;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB RAM, Node ${m.node}, ${m.os}`;
}

export const ratio = (x: number): string => x.toFixed(2);
export const mb = (bytes: number): string => formatBytes(bytes);
export const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
export const perSecond = (x: number, unit = 'rows'): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M ${unit}/s` : `${(x / 1e3).toFixed(0)} k ${unit}/s`);
export const count = (x: number): string => x.toLocaleString('en-US');

/** A Markdown table, columns padded so it also reads as plain text. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function figuresTable(figures: readonly Figure[]): string {
  return markdownTable(
    ['figure', 'measured', 'target', 'result'],
    figures.map((f) => [f.figure, f.measured, f.target, f.pass === undefined ? '' : f.pass ? 'pass' : 'FAIL']),
  );
}
