import { attributeNameProblem, carriedProblems, listProblems, splitList } from '../config/validate.ts';
import type { FlattenConfig } from '../flatten/flatten.ts';
import { snapshotTimeMs } from '../flatten/stream-record.ts';
import { stringOption, timeOption, type OptionSpecs, type ParsedArgs } from './args.ts';
import { UsageError } from './errors.ts';

/**
 * The options that describe a table's shape and how to flatten it, shared
 * by every command that flattens items (flatten now, backfill later), so
 * their names, help and validation are the same everywhere.
 */
export const FLATTEN_CONFIG_OPTIONS: OptionSpecs = {
  attributes: {
    type: 'string',
    value: 'LIST',
    help: 'Required. Comma-separated top-level attributes to explode into rows,\ne.g. items or items,tags.',
  },
  'partition-key': { type: 'string', value: 'NAME', help: "Required. The table's partition key attribute; every item must have it." },
  'sort-key': { type: 'string', value: 'NAME', help: "The table's sort key attribute, when it has one; every item must have it." },
  carry: {
    type: 'string',
    value: 'LIST',
    help: 'Comma-separated top-level attributes copied onto every row as columns of\ntheir own (lowercase letters, digits and _), e.g. customer_id.',
  },
};

export const SNAPSHOT_TIME_OPTION: OptionSpecs = {
  'snapshot-time': {
    type: 'string',
    value: 'ISO',
    help: 'event_time of the SNAPSHOT rows, e.g. 2024-05-01T12:00:00Z (floored to the\nsecond). Default: now, floored to the second.',
  },
};

/** The FlattenConfig the options describe, or a UsageError listing every problem with its flag. */
export function flattenConfigFromArgs(values: ParsedArgs['values']): FlattenConfig {
  const problems: string[] = [];
  const attributesText = stringOption(values, 'attributes');
  const partitionKey = stringOption(values, 'partition-key')?.trim() ?? '';
  const sortKey = stringOption(values, 'sort-key')?.trim() || undefined;
  const carry = splitList(stringOption(values, 'carry'));
  const attributes = splitList(attributesText);

  if (attributes.length === 0) problems.push('--attributes is required: the attributes to explode, e.g. --attributes items');
  for (const p of listProblems(attributes, '--attributes', attributeNameProblem)) problems.push(`--attributes: ${p}`);
  if (!partitionKey) problems.push("--partition-key is required: the table's partition key attribute, e.g. --partition-key pk");
  else {
    const p = attributeNameProblem(partitionKey);
    if (p) problems.push(`--partition-key: ${p}`);
  }
  if (sortKey !== undefined) {
    const p = attributeNameProblem(sortKey);
    if (p) problems.push(`--sort-key: ${p}`);
    if (sortKey === partitionKey) problems.push(`--sort-key must differ from --partition-key ("${sortKey}")`);
  }
  for (const a of attributes) {
    if (a === partitionKey || a === sortKey) problems.push(`--attributes: "${a}" is a key attribute; keys are columns already (pk, sk)`);
  }
  for (const p of carriedProblems(carry)) problems.push(`--carry: ${p}`);

  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { attributes, partitionKey, sortKey, carry };
}

/** Snapshot time from --snapshot-time, or `now`, floored to the second. */
export function snapshotTimeFromArgs(values: ParsedArgs['values'], now: () => number = Date.now): number {
  return snapshotTimeMs(timeOption(values, 'snapshot-time') ?? now());
}
