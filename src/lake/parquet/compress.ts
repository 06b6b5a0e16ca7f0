import * as zlib from 'node:zlib';

/** Parquet CompressionCodec ids. */
export const CODEC_IDS = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, ZSTD: 6 } as const;
export type CodecName = 'ZSTD' | 'GZIP' | 'UNCOMPRESSED';

/**
 * ZSTD through Node's built-in zlib binding (Node >= 22.15): native speed,
 * nothing added to the Lambda bundle, and Athena, DuckDB and pyarrow all read
 * it. GZIP is the fallback for an older Node 22, also read everywhere.
 */
export const zstdAvailable = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

export function defaultCodec(): CodecName {
  return zstdAvailable ? 'ZSTD' : 'GZIP';
}

const ZSTD_LEVEL = 3;

export function compress(codec: CodecName, data: Uint8Array): Uint8Array {
  switch (codec) {
    case 'ZSTD':
      return zlib.zstdCompressSync(data, { params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
    case 'GZIP':
      return zlib.gzipSync(data, { level: 1 });
    case 'UNCOMPRESSED':
      return data;
  }
}
