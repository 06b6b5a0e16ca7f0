import { carriedNameProblem } from '../schema/row-schema.ts';

/**
 * Shared validators for everything a user configures: the handler's
 * environment variables, the CLI's flags and the construct's props. Each
 * returns a problem sentence naming what is allowed, or undefined.
 */

/** A DynamoDB stream ARN; the handler's STREAM_ARN and the module's existingStreamArn use the same pattern. */
export const STREAM_ARN_PATTERN = '^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}/stream/[0-9A-Za-z:.-]+$';

/** S3 bucket naming rules (general purpose buckets). */
export function bucketNameProblem(name: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    return `"${name}" is not a valid S3 bucket name: 3-63 characters of a-z, 0-9, . and -, starting and ending with a letter or digit`;
  }
  return undefined;
}

/** A key prefix inside the bucket: path segments of safe characters, no leading/trailing slash, no `..`. */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === '') return 'must not be empty';
  if (!/^[A-Za-z0-9_=-]+(\/[A-Za-z0-9_=-]+)*$/.test(prefix)) {
    return `"${prefix}" is not a valid prefix: use segments of A-Z a-z 0-9 _ = - separated by single /, with no leading or trailing /`;
  }
  return undefined;
}

/** A Glue database, table or view name as the module creates them. */
export function glueNameProblem(name: string): string | undefined {
  return /^[a-z0-9_]{1,255}$/.test(name) ? undefined : `"${name}" is not a Glue name (1 to 255 characters of a-z, 0-9 and _)`;
}

/** A fully qualified SSM parameter name. */
export function ssmParameterProblem(name: string): string | undefined {
  return /^\/[A-Za-z0-9_.\-/]{1,1010}$/.test(name) ? undefined : `"${name}" is not an SSM parameter name (/ then a-z, A-Z, 0-9, _ . - /)`;
}

/** DynamoDB attribute names are 1 to 255 bytes (key attributes) / 64 KB; keep them printable and unambiguous in a list. */
export function attributeNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'an attribute name must not be empty';
  if (Buffer.byteLength(name, 'utf8') > 255) return `attribute name "${name.slice(0, 20)}…" is longer than 255 bytes`;
  if (/[,\s]/.test(name)) return `attribute name "${name}" must not contain commas or whitespace`;
  return undefined;
}

export function listProblems(names: readonly string[], label: string, each: (n: string) => string | undefined): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    const p = each(n);
    if (p) problems.push(p);
    if (seen.has(n)) problems.push(`${label} lists "${n}" twice`);
    seen.add(n);
  }
  return problems;
}

export function carriedProblems(names: readonly string[]): string[] {
  return listProblems(names, 'the carried attributes', carriedNameProblem);
}

/** Splits "a,b, c" into names; empty text is an empty list. */
export function splitList(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((s) => s.trim());
}

/** Thrown for bad configuration. The message lists every problem, one per line, each naming its source. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
