import { parquetMetadataAsync, parquetRead, asyncBufferFromFile } from 'hyparquet';
import { zstdDecompressSync } from 'node:zlib';
const file = await asyncBufferFromFile('/tmp/lake-try/flattened/dt=2026-12-01/1796139457854000000004-1796139457854000000005-2663a27dc87ea264.parquet');
const md = await parquetMetadataAsync(file);
console.log(md.num_rows, md.row_groups.length, md.row_groups[0].columns.map((c) => c.meta_data.path_in_schema.join('.') + ':' + c.meta_data.codec).join(' '));
await parquetRead({ file, metadata: md, compressors: { ZSTD: (input, n) => new Uint8Array(zstdDecompressSync(input)) }, rowFormat: 'object', onComplete: (rows) => console.log(rows.slice(0, 2)) });
