import { relative } from 'node:path';
import { bundleHandler, REPO_ROOT, writeHandlerZip } from '../modules/lambda-bundle.ts';

/**
 * `npm run bundle [dir]`: the stream handler as a deterministic Lambda zip
 * (default dist/lambda/ddb-flatten-handler.zip); prints its size and hashes.
 */
const bundle = bundleHandler();
const path = writeHandlerZip(process.argv[2] ?? `${REPO_ROOT}dist/lambda`, bundle);
console.log(`${relative(process.cwd(), path)}: ${bundle.zip.length} bytes zipped (index.mjs ${bundle.code.length} bytes)`);
console.log(`sha256 ${bundle.sha256}`);
console.log(`source_code_hash ${bundle.base64Sha256}`);
