import { parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/**
 * Command-line parsing on top of node:util parseArgs. Each command declares
 * its options once, with their help text; parsing, the "unknown option"
 * message and --help all come from that one declaration.
 */

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder shown in help, e.g. LIST or FILE. */
  readonly value?: string;
  /** May be given more than once (its values are then a list); only for values that may hold commas. */
  readonly multiple?: boolean;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec {
  /** Full command name as typed, e.g. "ddb-flatten flatten" or "npm start --". */
  readonly name: string;
  /** The usage line after the command name. */
  readonly usage: string;
  /** One line for command lists. */
  readonly title: string;
  readonly summary: string;
  readonly options: OptionSpecs;
  /** Extra paragraphs after the option list (examples, exit codes). */
  readonly notes?: readonly string[];
  /** Whether positional arguments are accepted. */
  readonly positionals?: boolean;
}

export const HELP_OPTION: OptionSpecs = {
  help: { type: 'boolean', short: 'h', help: 'Show this help and exit.' },
};

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** Parses argv against the command's options; every mistake becomes a UsageError naming the flag. */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(parseErrorText(spec, error));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name) && !spec.options[token.name]?.multiple) throw new UsageError(`--${token.name} is given more than once; give it once${listHint(spec, token.name)}`);
    seen.add(token.name);
    if (spec.options[token.name]?.type === 'string' && (token.value === undefined || token.value === '')) {
      throw new UsageError(`--${token.name} needs a value: ${spec.options[token.name]!.value ?? 'VALUE'}`);
    }
  }
  if (!spec.positionals && parsed.positionals.length > 0) {
    throw new UsageError(`${spec.name} takes no arguments, got "${parsed.positionals[0]}" (see --help)`);
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

function listHint(spec: CommandSpec, name: string): string {
  return spec.options[name]?.value === 'LIST' ? ` with a comma-separated list, e.g. --${name} a,b` : '';
}

function parseErrorText(spec: CommandSpec, error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /'(-{1,2}[^' =]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const guess = closestOption(spec, unknown.replace(/^-+/, ''));
    return `unknown option ${unknown} for ${spec.name}${guess ? ` (did you mean --${guess}?)` : ''}; see --help`;
  }
  const name = /--([A-Za-z0-9-]+)/.exec(message)?.[1];
  const option = name === undefined ? undefined : spec.options[name];
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return option.type === 'boolean' ? `--${name} is a switch and takes no value` : `--${name} needs a value: ${option.value ?? 'VALUE'}`;
  }
  return `${message} (see --help)`;
}

/** The declared option nearest to a mistyped one, if any is close. */
function closestOption(spec: CommandSpec, typed: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(typed.length / 3)) + 1;
  for (const name of Object.keys(spec.options)) {
    const d = name.startsWith(typed) || typed.startsWith(name) ? 1 : editDistance(name, typed);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** --help text: usage, summary, every option with its help, then notes. */
export function helpText(spec: CommandSpec): string {
  const entries = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}${o.multiple ? ' ...' : ''}`;
    return [flag, o.help] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length)) + 2;
  const lines = [`Usage: ${spec.name} ${spec.usage}`, '', spec.summary, '', 'Options:'];
  for (const [flag, help] of entries) {
    const [first, ...rest] = help.split('\n');
    lines.push(`  ${flag.padEnd(width)}${first}`);
    for (const more of rest) lines.push(`  ${' '.repeat(width)}${more}`);
  }
  for (const note of spec.notes ?? []) lines.push('', note);
  return `${lines.join('\n')}\n`;
}

/* ---- value checks shared by commands: each names the flag and what is allowed ---- */

/** Every value of an option declared `multiple`, in the order given. */
export function listOption(values: ParsedArgs['values'], name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? [...v] : typeof v === 'string' ? [v] : [];
}

export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredOption(values: ParsedArgs['values'], name: string, what: string): string {
  const v = stringOption(values, name)?.trim();
  if (!v) throw new UsageError(`--${name} is required: ${what}`);
  return v;
}

export function choiceOption<T extends string>(values: ParsedArgs['values'], name: string, allowed: readonly T[], fallback: T): T {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be ${orList(allowed)}, got "${v}"`);
  return v as T;
}

export function integerOption(values: ParsedArgs['values'], name: string, min: number, max: number, fallback: number): number {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got "${v}"`);
  }
  return n;
}

/** An ISO-8601 date-time with an explicit zone (Z or ±hh:mm), as epoch milliseconds. */
export function timeOption(values: ParsedArgs['values'], name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(v.trim()) ? Date.parse(v.trim()) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(`--${name} must be an ISO-8601 date-time with a zone, such as 2024-05-01T12:00:00Z, got "${v}"`);
  }
  return ms;
}

export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
