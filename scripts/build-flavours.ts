import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bundleHandler, HANDLER_ZIP_NAME, REPO_ROOT, writeHandlerZip } from '../modules/lambda-bundle.ts';

/**
 * `npm run build:flavours`: the library as JavaScript with type declarations,
 * once per CDK core, for the package's `ddb-flatten/cdktf` and
 * `ddb-flatten/cdktn` exports and for the repository's cdktn runs
 * (`npm run synth:cdktn`, examples/cdktn, the flavour tests and the e2e).
 *
 *   dist/cdktf/  tsc of modules/, stacks/ and the src/ files they import
 *                (tsconfig.flavours.json), the SQL templates the construct
 *                reads, and the handler zip (a built flavour has no sources to bundle);
 *   dist/cdktn/  the same files, with the import specifiers of the two seams,
 *                modules/cdk and modules/aws (.js and .d.ts), rewritten:
 *                'cdktf' → 'cdktn', '@cdktf/provider-aws/…' → '@cdktn/provider-aws/…'.
 *
 * Nothing else is edited: the build fails if any other file of a flavour
 * imports a core or a binding by name, or if a seam had nothing to rewrite.
 * Each flavour records a hash of its inputs (BUILD.json), so `--if-stale`
 * (and scripts/flavours.ts) rebuild only when a source changed.
 */

export interface Flavour {
  /** The CDK core package. */
  readonly core: string;
  /** The AWS provider bindings package. */
  readonly bindings: string;
}

export const FLAVOURS = {
  cdktf: { core: 'cdktf', bindings: '@cdktf/provider-aws' },
  cdktn: { core: 'cdktn', bindings: '@cdktn/provider-aws' },
} as const satisfies Record<string, Flavour>;
export type FlavourName = keyof typeof FLAVOURS;

export const DIST = join(REPO_ROOT, 'dist');
export const flavourDir = (name: FlavourName, root: string = DIST): string => join(root, name);
/** The only files whose specifiers differ between the flavours (without extension: .js and .d.ts). */
export const SEAMS = ['modules/cdk', 'modules/aws'] as const;
const STAMP = 'BUILD.json';
/** What the flavours are built from: a change to any of these makes them stale. */
const INPUTS = ['modules', 'stacks', 'src', 'sql', 'handlers', 'package.json', 'tsconfig.json', 'tsconfig.flavours.json', 'scripts/build-flavours.ts'];

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

/** sha256 over the path and content of every input file. */
export function inputsHash(): string {
  const hash = createHash('sha256');
  const files = INPUTS.flatMap((p) => filesUnder(join(REPO_ROOT, p))).sort();
  for (const file of files) hash.update(relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

export function isFresh(name: FlavourName, hash: string = inputsHash(), root: string = DIST): boolean {
  const stamp = join(flavourDir(name, root), STAMP);
  if (!existsSync(stamp)) return false;
  return (JSON.parse(readFileSync(stamp, 'utf8')) as { inputs?: string }).inputs === hash;
}

/** A specifier naming `pkg` or a path inside it, in an import, export or require. */
const specifierOf = (pkg: string): RegExp => new RegExp(String.raw`((?:from|import|require)\s*\(?\s*['"])${pkg.replace('/', '\\/')}(?=['"/])`, 'g');

/** The seam's text with `from` packages replaced by `to` in its specifiers only; fails when there was nothing to replace. */
export function rewriteSeam(text: string, file: string, from: Flavour, to: Flavour): string {
  let count = 0;
  let out = text;
  for (const key of ['core', 'bindings'] as const) {
    out = out.replace(specifierOf(from[key]), (_m, lead: string) => {
      count++;
      return `${lead}${to[key]}`;
    });
  }
  if (count === 0) throw new Error(`build-flavours: ${file} imports neither ${from.core} nor ${from.bindings}: is it still a seam?`);
  return out;
}

/** Files of a built flavour (other than the seams) that import a core or bindings package by name. */
export function bypassingSeams(dir: string): string[] {
  const names = Object.values(FLAVOURS).flatMap((f) => [f.core, f.bindings]);
  return filesUnder(dir)
    .filter((f) => /\.(js|d\.ts)$/.test(f) && !SEAMS.some((s) => f === join(dir, `${s}.js`) || f === join(dir, `${s}.d.ts`)))
    .filter((f) => names.some((n) => specifierOf(n).test(readFileSync(f, 'utf8'))))
    .map((f) => relative(dir, f));
}

function tsc(outDir: string): void {
  const bin = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [bin, '-p', join(REPO_ROOT, 'tsconfig.flavours.json'), '--outDir', outDir], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-flavours: tsc -p tsconfig.flavours.json failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
}

/** Builds both flavours into `root` (default dist/): each is written beside, then moved into place. */
export function buildFlavours(root: string = DIST): Record<FlavourName, string> {
  const hash = inputsHash();
  const work = join(root, `.flavours-build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  try {
    const base = join(work, 'cdktf');
    tsc(base);
    // What the construct reads at synth, at the same place relative to the code as in the repository.
    cpSync(join(REPO_ROOT, 'sql'), join(base, 'sql'), { recursive: true });
    writeHandlerZip(join(base, 'lambda'), bundleHandler());
    if (!existsSync(join(base, 'lambda', HANDLER_ZIP_NAME))) throw new Error('build-flavours: the handler zip was not written');

    for (const name of Object.keys(FLAVOURS) as FlavourName[]) {
      const dir = join(work, name);
      if (dir !== base) {
        cpSync(base, dir, { recursive: true });
        for (const seam of SEAMS) {
          for (const ext of ['.js', '.d.ts']) {
            const file = join(dir, `${seam}${ext}`);
            writeFileSync(file, rewriteSeam(readFileSync(file, 'utf8'), `${seam}${ext}`, FLAVOURS.cdktf, FLAVOURS[name]));
          }
        }
      }
      const bypassing = bypassingSeams(dir);
      if (bypassing.length) throw new Error(`build-flavours: these files import a CDK core or provider bindings directly instead of through modules/cdk.ts or modules/aws.ts: ${bypassing.join(', ')}`);
      writeFileSync(join(dir, STAMP), `${JSON.stringify({ ...FLAVOURS[name], inputs: hash }, null, 2)}\n`);
    }
    const out = {} as Record<FlavourName, string>;
    for (const name of Object.keys(FLAVOURS) as FlavourName[]) {
      const target = flavourDir(name, root);
      rmSync(target, { recursive: true, force: true });
      renameSync(join(work, name), target);
      out[name] = target;
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && (Object.keys(FLAVOURS) as FlavourName[]).every((name) => isFresh(name))) {
    console.log('dist/cdktf and dist/cdktn are up to date');
  } else {
    mkdirSync(DIST, { recursive: true });
    for (const [name, dir] of Object.entries(buildFlavours())) console.log(`${name}: ${relative(process.cwd(), dir)}/ (${FLAVOURS[name as FlavourName].core}, ${FLAVOURS[name as FlavourName].bindings})`);
  }
}
