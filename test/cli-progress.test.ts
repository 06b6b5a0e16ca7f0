import { describe, expect, it } from 'vitest';
import { createProgress, formatRate, progressLine } from '../src/cli/progress.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, columns: 60, write: (t: string) => (writes.push(t), true) }, writes };
}

describe('progress line', () => {
  it('draws a bar with a percentage, cut to the terminal width', () => {
    expect(progressLine(0.5, '5 items', 80)).toBe(`[${'#'.repeat(10)}${'-'.repeat(10)}]  50%  5 items`);
    expect(progressLine(undefined, 'only text', 80)).toBe('only text');
    expect(progressLine(1, 'x'.repeat(200), 40)).toHaveLength(39);
  });

  it('stays silent when stderr is not a terminal', () => {
    let t = 0;
    const { stream, writes } = fakeStream(false);
    const p = createProgress({ stream, now: () => t });
    t = 10_000;
    p.update(0.5, 'x');
    p.done();
    expect(writes).toEqual([]);
  });

  it('on a terminal, draws only after the delay, at most once per interval, and erases itself', () => {
    let t = 0;
    const { stream, writes } = fakeStream(true);
    const p = createProgress({ stream, now: () => t, delayMs: 1000, intervalMs: 200 });
    t = 500;
    p.update(0.1, 'early');
    expect(writes).toEqual([]); // short runs never see a progress line
    t = 1000;
    p.update(0.2, 'first');
    t = 1100;
    p.update(0.3, 'too soon');
    t = 1200;
    p.update(0.4, 'second');
    expect(writes.map((w) => /\]\s+\d+%\s+(\w+)/.exec(w)?.[1])).toEqual(['first', 'second']);
    expect(writes.every((w) => w.startsWith('\r') && w.endsWith('\x1b[K'))).toBe(true);
    p.done();
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('falls back to 80 columns when the terminal reports none', () => {
    let t = 0;
    const writes: string[] = [];
    const p = createProgress({ stream: { isTTY: true, columns: 0, write: (w: string) => (writes.push(w), true) }, now: () => t });
    t = 5000;
    p.update(undefined, 'still visible');
    expect(writes).toEqual(['\rstill visible\x1b[K']);
  });

  it('formats rates', () => {
    expect(formatRate(1_500_000, 2000, 'rows')).toBe('750,000 rows/s');
    expect(formatRate(5, 0, 'rows')).toBe('0 rows/s');
  });
});
