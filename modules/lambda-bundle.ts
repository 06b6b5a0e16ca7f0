import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { createRequire } from 'node:module';
import type { BuildOptions } from 'esbuild';

/**
 * The stream handler as a deployable Lambda zip: one esbuild bundle
 * (ESM, minified, tree-shaken, AWS SDK v3 included so the version is the
 * one this repository tested) stored as `index.mjs` plus the chunks it
 * imports lazily (`chunks/*.mjs`) in a deterministic zip.
 *
 * Deterministic means the same source gives the same bytes: esbuild's
 * output is stable for a given input and esbuild version, and the zip
 * writer below fixes every field that usually varies (timestamps, order,
 * permissions, host OS, compression level). Terraform then sees the same
 * `source_code_hash` and publishes no new version unless code changed.
 *
 * Synchronous on purpose: constructs are built synchronously, so the
 * construct can bundle on synth without a separate build step.
 */

/** The repository, or the root of a built flavour (dist/cdktf, dist/cdktn; an installed package's copy of them). */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const HANDLER_ENTRY = join(REPO_ROOT, 'handlers/index.ts');
export const HANDLER_ZIP_NAME = 'ddb-flatten-handler.zip';
/**
 * A built flavour has no handler sources (and no esbuild at run time): scripts/build-flavours.ts
 * puts the zip, bundled from the same sources, here, and the construct uses it as it is.
 */
export const PREBUILT_HANDLER_ZIP = join(REPO_ROOT, 'lambda', HANDLER_ZIP_NAME);
/** Lambda handler setting for the bundle: file index.mjs, export handler. */
export const HANDLER_NAME = 'index.handler';

export interface HandlerBundle {
  /** The zip file's bytes. */
  readonly zip: Buffer;
  /** The entry chunk (index.mjs) before zipping: what a cold start loads. */
  readonly code: Buffer;
  /** Every file of the zip: index.mjs and the chunks under chunks/ that actions import on first use. */
  readonly files: readonly ZipEntry[];
  /** Hex sha256 of the zip. */
  readonly sha256: string;
  /** Base64 sha256 of the zip, the form Terraform's `source_code_hash` and Lambda's CodeSha256 use. */
  readonly base64Sha256: string;
}

/**
 * ESM output keeps top-level await and tree-shakes the AWS SDK, but some
 * bundled CommonJS still calls require() for Node built-ins; give it one.
 */
export const REQUIRE_SHIM = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

/** How this project bundles for Node: one ESM file per entry, minified and tree-shaken, dependencies included. */
export const NODE_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  treeShaking: true,
  mainFields: ['module', 'main'],
  banner: { js: REQUIRE_SHIM },
  legalComments: 'none',
} as const satisfies BuildOptions;

/**
 * The SQL templates (sql/**.sql: the views and the maintenance statements) for a bundle, which has
 * no sql/ folder beside it: esbuild defines `__DDB_FLATTEN_SQL__` as their text by path
 * (src/sql/views.ts sqlTemplate reads it). Sorted, so the bundle stays deterministic.
 */
export function sqlTemplatesDefine(): Record<string, string> {
  const root = join(REPO_ROOT, 'sql');
  const files = (readdirSync(root, { recursive: true }) as string[]).map((f) => f.split(sep).join('/')).filter((f) => f.endsWith('.sql')).sort();
  const texts = Object.fromEntries(files.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
  return { __DDB_FLATTEN_SQL__: JSON.stringify(texts) };
}

/**
 * esbuild, loaded when a bundle is made: it is a devDependency, so an installed package (which
 * uses the zip built with it) must be able to load this module without it.
 */
function esbuild(): typeof import('esbuild') {
  try {
    return createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  } catch (error) {
    throw new Error(`bundling the handler needs esbuild (a devDependency of ddb-flatten): ${(error as Error).message}`);
  }
}

export function bundleHandler(entry: string = HANDLER_ENTRY): HandlerBundle {
  // Code splitting: the stream path is the entry chunk; what only an action needs (the Glue,
  // SSM, Lambda, SQS and DynamoDB clients, the Parquet reader, maintenance) is in chunks that
  // Node loads on the first action. A cold start then compiles only the stream path.
  const outdir = join(REPO_ROOT, '.bundle-out');
  const result = esbuild().buildSync({
    ...NODE_BUNDLE,
    entryPoints: { index: entry },
    define: sqlTemplatesDefine(),
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    target: 'node22',
    charset: 'utf8',
    outdir,
    write: false,
    logLevel: 'silent',
  });
  const files = result.outputFiles.map((f) => ({ name: relative(outdir, f.path).split(sep).join('/'), data: Buffer.from(f.contents) }));
  const out = files.find((f) => f.name === 'index.mjs');
  if (!out) throw new Error(`esbuild produced no index.mjs for ${entry}`);
  const zip = deterministicZip(files);
  const digest = createHash('sha256').update(zip).digest();
  return { zip, code: out.data, files, sha256: digest.toString('hex'), base64Sha256: digest.toString('base64') };
}

/**
 * Writes the bundle to `<dir>/ddb-flatten-handler.zip` (atomically, so
 * parallel synths never see a half-written file) and returns its path.
 */
export function writeHandlerZip(dir: string, bundle: HandlerBundle = bundleHandler()): string {
  const target = join(dir, HANDLER_ZIP_NAME);
  mkdirSync(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, bundle.zip);
  renameSync(temp, target);
  return target;
}

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
}

/** 1980-01-01 00:00:00, the zip format's epoch, in DOS date/time form. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** Regular file, rw-r--r--, in the high 16 bits of the external attributes (Unix host). */
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;
const VERSION_MADE_BY = (3 << 8) | 20; // Unix, spec 2.0
const VERSION_NEEDED = 20;
const DEFLATE = 8;

/**
 * A minimal zip writer (deflate, no extra fields, no data descriptors,
 * no zip64) whose output depends only on the entries: names sorted,
 * timestamps at the DOS epoch, mode 0644, compression level 9.
 */
export function deterministicZip(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of sorted) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);
    if (entry.data.length > 0xfffffffe || offset > 0xfffffffe) throw new Error('zip64 is not supported');

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(DEFLATE, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, ...centrals, end]);
}
