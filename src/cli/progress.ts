/**
 * A one-line progress display on stderr, for the CLI and npm start. It
 * draws only when the stream is a terminal and only once a run has lasted
 * `delayMs`, so short runs, pipes and CI logs never see it; it redraws at
 * most every `intervalMs` and erases itself when done.
 */

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  readonly delayMs?: number;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export interface Progress {
  /** `fraction` in [0, 1] draws a bar; undefined draws only the text. */
  update(fraction: number | undefined, text: string): void;
  /** Erases the line if one was drawn. */
  done(): void;
  /** Milliseconds since the progress was created. */
  elapsedMs(): number;
}

const BAR_WIDTH = 20;

export function createProgress(options: ProgressOptions): Progress {
  const { stream } = options;
  const now = options.now ?? Date.now;
  const delayMs = options.delayMs ?? 1000;
  const intervalMs = options.intervalMs ?? 200;
  const started = now();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(fraction, text) {
      if (!stream.isTTY) return;
      const t = now();
      if (t - started < delayMs || t - lastDraw < intervalMs) return;
      lastDraw = t;
      drawn = true;
      stream.write(`\r${progressLine(fraction, text, stream.columns || 80)}\x1b[K`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
    elapsedMs: () => now() - started,
  };
}

/** The text of one progress line, cut to the terminal width. */
export function progressLine(fraction: number | undefined, text: string, columns: number): string {
  let line = text;
  if (fraction !== undefined && Number.isFinite(fraction)) {
    const f = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(f * BAR_WIDTH);
    line = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${text}`;
  }
  return line.length >= columns ? line.slice(0, Math.max(0, columns - 1)) : line;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "12,345 rows/s" from a count, the milliseconds it took and the unit. */
export function formatRate(count: number, elapsedMs: number, unit: string): string {
  return `${formatCount(elapsedMs > 0 ? (count * 1000) / elapsedMs : 0)} ${unit}/s`;
}
