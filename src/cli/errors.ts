/**
 * The CLI's failure kinds and their exit codes. Every message is plain text
 * meant for a person at a terminal: no stack traces unless DDB_FLATTEN_DEBUG
 * is set.
 */

export const EXIT = {
  OK: 0,
  /** Bad input data, or a failure while reading or writing. */
  FAILED: 1,
  /** Bad command line: unknown flag, missing value, value out of range; or a file argument that cannot be used. */
  USAGE: 2,
  /** review-plan: the review does not vouch for the plan (data at risk not allowed, a plan Terraform could not finish, a failed check). */
  DATA_AT_RISK: 3,
  /** Interrupted (SIGINT / SIGTERM). */
  INTERRUPTED: 130,
} as const;

import { InputError, OutputClosedError } from '../io/errors.ts';

export { InputError, OutputClosedError };

/** A bad command line. The message names the flag and what is allowed. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A file named on the command line that cannot be used at all (missing, not
 * JSON, not the kind of file the command reads): exit 2, like a bad flag,
 * since the command line is what needs fixing. The message names the file
 * and what is wrong with it.
 */
export class BadFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadFileError';
  }
}

/** One line for stderr describing any error; a stack only when DDB_FLATTEN_DEBUG is set. */
export function errorText(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (env.DDB_FLATTEN_DEBUG && error instanceof Error && error.stack) return error.stack;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof BadFileError) return EXIT.USAGE;
  if (error instanceof OutputClosedError) return EXIT.OK;
  return EXIT.FAILED;
}
