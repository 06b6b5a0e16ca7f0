import { Worker } from 'node:worker_threads';
import type { FlattenConfig } from '../flatten/flatten.ts';
import { defaultCodec } from '../lake/parquet/compress.ts';
import type { EncodedRowGroup } from '../lake/parquet/encoder.ts';
import { InputError } from './errors.ts';
import type { ExportStats } from './export-lines.ts';
import { blockEncoder, type BlockSetup } from './flatten-block.ts';
import type { BlockRequest, BlockResult } from './flatten-worker.ts';
import { readLineBlocks, type InputSource } from './lines.ts';

/** Raw input per block, and so per row group: big enough to compress well (Parquet about a tenth of the JSON), small enough that memory stays flat. */
export const BLOCK_BYTES = 4 * 1024 * 1024;

/** The worker's module: its TypeScript source in the repository, the bundled .mjs beside the CLI bundle (dist/cli). */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './flatten-worker.ts' : './flatten-worker.mjs', import.meta.url);

/** Old-generation heap of a worker: several times what one block needs. */
export const WORKER_HEAP_MB = 128;

export type BlockOutput = { readonly rowGroup: EncodedRowGroup } | { readonly jsonl: Uint8Array };

export interface ParallelOptions {
  readonly config: FlattenConfig;
  readonly snapshotMs: number;
  readonly format: 'jsonl' | 'parquet';
  /** 1 encodes in this thread; more start that many worker threads. The output is the same either way. */
  readonly threads: number;
  readonly stats: ExportStats;
  readonly onChunk?: (source: InputSource) => void;
  readonly blockBytes?: number;
}

/**
 * Flattens export lines on `threads` worker threads and yields each
 * block's output in input order, so the file written is the same as with
 * one thread. At most one block per worker plus one are in flight, so memory is
 * bounded whatever the input size. Bad input surfaces as the same
 * InputError (file and line) as on one thread, once the blocks before it
 * have been yielded.
 */
export async function* flattenInBlocks(sources: readonly InputSource[], options: ParallelOptions): AsyncGenerator<BlockOutput> {
  const setup: BlockSetup = { config: options.config, snapshotMs: options.snapshotMs, format: options.format, codec: defaultCodec() };
  if (options.threads <= 1) {
    yield* inThisThread(sources, setup, options);
    return;
  }
  // A worker holds one block's rows at a time: a small heap keeps the process's memory flat.
  const workers = Array.from(
    { length: options.threads },
    () => new Worker(WORKER_URL, { workerData: setup, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 16 } }),
  );
  const waiting = new Map<number, { resolve: (r: BlockResult) => void; reject: (e: unknown) => void }>();
  for (const worker of workers) {
    worker.on('message', (result: BlockResult) => {
      waiting.get(result.id)?.resolve(result);
      waiting.delete(result.id);
    });
    worker.on('error', (error) => {
      for (const w of waiting.values()) w.reject(error);
      waiting.clear();
    });
  }
  const send = (request: BlockRequest): Promise<BlockResult> =>
    new Promise((resolve, reject) => {
      waiting.set(request.id, { resolve, reject });
      workers[request.id % workers.length]!.postMessage(request, [request.block.bytes.buffer as ArrayBuffer]);
    });
  const unwrap = (result: BlockResult): BlockOutput => {
    if ('error' in result) {
      const e = result.error;
      throw 'problem' in e ? new InputError(e.file, e.line, e.problem) : new Error(e.message);
    }
    return counted(result, options);
  };

  const inflight: Promise<BlockResult>[] = [];
  let id = 0;
  try {
    for (const source of sources) {
      for await (const block of readLineBlocks(source, options.blockBytes ?? BLOCK_BYTES, { onBytes: (n) => (options.stats.bytes += n) })) {
        inflight.push(send({ id: id++, name: source.name, block }));
        if (inflight.length > workers.length) yield unwrap(await inflight.shift()!);
        options.onChunk?.(source);
      }
    }
    while (inflight.length > 0) yield unwrap(await inflight.shift()!);
  } finally {
    // Abandoned promises (after an error) must not surface as unhandled rejections.
    for (const p of inflight) p.catch(() => {});
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function counted(block: { items: number; rows: number; rowGroup?: EncodedRowGroup; jsonl?: Uint8Array }, options: ParallelOptions): BlockOutput {
  options.stats.items += block.items;
  options.stats.rows += block.rows;
  return block.rowGroup ? { rowGroup: block.rowGroup } : { jsonl: block.jsonl! };
}

async function* inThisThread(sources: readonly InputSource[], setup: BlockSetup, options: ParallelOptions): AsyncGenerator<BlockOutput> {
  const encode = blockEncoder(setup);
  for (const source of sources) {
    for await (const block of readLineBlocks(source, options.blockBytes ?? BLOCK_BYTES, { onBytes: (n) => (options.stats.bytes += n) })) {
      yield counted(encode(source.name, block), options);
      options.onChunk?.(source);
    }
  }
}
