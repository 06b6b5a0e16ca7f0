/** Errors of reading input lines and writing output bytes, shared by the CLI and the Lambda's backfill. */

/** Bad input data at a known place: the message reads `FILE:LINE: what is wrong`. */
export class InputError extends Error {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'InputError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** The reader of our stdout went away (e.g. `| head`): stop quietly. */
export class OutputClosedError extends Error {
  constructor() {
    super('standard output was closed by the reader');
    this.name = 'OutputClosedError';
  }
}
