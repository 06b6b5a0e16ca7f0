import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from './errors.ts';
import { blockEncoder, transferables, type BlockSetup, type EncodedBlock } from './flatten-block.ts';
import type { LineBlock } from './lines.ts';

/**
 * A worker thread of the parallel export flattener: blocks of raw export
 * lines in, encoded output out, every buffer transferred rather than
 * copied. The main thread only reads, gunzips and cuts the input into
 * blocks, and writes the results in order.
 */

export interface BlockRequest {
  readonly id: number;
  readonly name: string;
  readonly block: LineBlock;
}

export type BlockFailure = { readonly file: string; readonly line: number; readonly problem: string } | { readonly message: string };
export type BlockResult = ({ readonly id: number } & EncodedBlock) | { readonly id: number; readonly error: BlockFailure };

const encode = blockEncoder(workerData as BlockSetup);

parentPort!.on('message', (request: BlockRequest) => {
  try {
    const encoded = encode(request.name, request.block);
    parentPort!.postMessage({ id: request.id, ...encoded } satisfies BlockResult, transferables(encoded));
  } catch (error) {
    const failure: BlockFailure =
      error instanceof InputError ? { file: error.file, line: error.line, problem: error.problem } : { message: error instanceof Error ? error.message : String(error) };
    parentPort!.postMessage({ id: request.id, error: failure } satisfies BlockResult);
  }
});
