import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { App as CdktnApp, TerraformStack as CdktnStack } from 'cdktn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Testing, TerraformStack } from '../../modules/cdk.ts';
import { CORE } from '../../modules/core.ts';
import { FlatteningPipeline } from '../../modules/flattening-pipeline.ts';
import { REPO_ROOT } from '../../modules/lambda-bundle.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';
import { FlatteningPipelineStack } from '../../stacks/pipeline-stack.ts';
import { buildModule, GENERATED_FILES, MODULE_DIR } from '../../scripts/build-module.ts';
import { bypassingSeams, FLAVOURS, flavourDir, rewriteSeam, SEAMS } from '../../scripts/build-flavours.ts';
import { ensureFlavours, runInFlavour, type FlavourName } from '../../scripts/flavours.ts';
import { EXPECTED_DIFFERENCES } from '../support/flavour-differences.ts';
import { jsonDifferences } from '../support/json-diff.ts';
import { requireTerraform, terraformInit, terraformValidate } from '../support/terraform.ts';
import { FULL_PROPS } from './addresses.ts';
import { builtModule } from './module-build.ts';
import { BASE_PROPS, KMS } from './synth.ts';

/**
 * One construct for both CDK cores: cdktf 0.21 (the sources) and CDK Terrain
 * (cdktn 0.24, the dist/cdktn flavour built from the same sources with only
 * the two seams' import specifiers rewritten) give the same Terraform.
 * Each synth runs in a process of its own: one app must never mix the cores.
 */

const terraformSkip = requireTerraform();

/** Names imported from the seams in a source file, and the seams' own exports. */
function seamImports(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'[./]+(?:modules\/)?(?:cdk|aws)\.ts'/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) names.push(name);
    }
  }
  return names;
}

function sourceFiles(...dirs: string[]): string[] {
  return dirs.flatMap((d) =>
    readdirSync(join(REPO_ROOT, d), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => relative(REPO_ROOT, join(e.parentPath, e.name))),
  );
}

const CORE_SPECIFIER = /(?:from|import)\s*\(?\s*'(cdktf|cdktn|@cdktf\/provider-aws|@cdktn\/provider-aws)(?:\/[^']*)?'/;

describe('one construct, two CDK cores: cdktf and cdktn', () => {
  beforeAll(() => ensureFlavours(), 120_000);

  describe('the seams', () => {
    it('only modules/cdk.ts and modules/aws.ts import a CDK core or provider bindings', () => {
      // On purpose: this file builds a cdktn app around the cdktf construct (a mixed app), and
      // package-exports.test.ts writes a user's cdktf and cdktn apps.
      const allowed = ['modules/cdk.ts', 'modules/aws.ts', 'test/module/flavours.test.ts', 'test/package-exports.test.ts'];
      const offenders = sourceFiles('modules', 'stacks', 'scripts', 'test', 'src', 'handlers')
        .filter((f) => !allowed.includes(f))
        .filter((f) => CORE_SPECIFIER.test(readFileSync(join(REPO_ROOT, f), 'utf8')));
      expect(offenders, 'import these through modules/cdk.ts and modules/aws.ts').toEqual([]);
      expect(readFileSync(join(REPO_ROOT, 'modules/cdk.ts'), 'utf8')).toMatch(/from 'cdktf'/);
    });

    it('no instanceof on a class from the seams: a cdktn object is no instance of a cdktf class', () => {
      const found: string[] = [];
      for (const f of sourceFiles('modules', 'stacks')) {
        const text = readFileSync(join(REPO_ROOT, f), 'utf8');
        for (const name of seamImports(text)) if (new RegExp(String.raw`instanceof\s+${name}\b`).test(text)) found.push(`${f}: instanceof ${name}`);
      }
      expect(found, 'use the symbol-based checks (TerraformResource.isTerraformResource, TerraformStack.isStack, Token.isUnresolved)').toEqual([]);
    });
  });

  describe('the build: dist/cdktf and dist/cdktn', () => {
    const filesOf = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .map((e) => relative(dir, join(e.parentPath, e.name)))
        .sort();

    it('the flavours are the same files but the seams, and the seams import their own core and bindings only', () => {
      const [cdktf, cdktn] = [flavourDir('cdktf'), flavourDir('cdktn')];
      expect(filesOf(cdktn)).toEqual(filesOf(cdktf));
      const seamFiles = SEAMS.flatMap((s) => [`${s}.js`, `${s}.d.ts`]);
      const differing = filesOf(cdktf).filter((f) => !readFileSync(join(cdktf, f)).equals(readFileSync(join(cdktn, f))));
      expect(differing.sort()).toEqual([...seamFiles, 'BUILD.json'].sort());
      for (const [name, flavour] of Object.entries(FLAVOURS)) {
        for (const seam of seamFiles) {
          const specifiers = [...readFileSync(join(flavourDir(name as FlavourName), seam), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
          expect(specifiers.length, `${name}/${seam}`).toBeGreaterThan(0);
          for (const s of specifiers) expect(s === flavour.core || s.startsWith(`${flavour.bindings}/lib/`), `${name}/${seam}: ${s}`).toBe(true);
        }
      }
      expect(bypassingSeams(cdktn)).toEqual([]);
    });

    it('refuses a seam with nothing to rewrite, and finds a file that imports a core directly', () => {
      expect(() => rewriteSeam("export { x } from './x.js';", 'modules/cdk.js', FLAVOURS.cdktf, FLAVOURS.cdktn)).toThrow(/imports neither cdktf nor @cdktf\/provider-aws/);
      expect(rewriteSeam("export { A } from 'cdktf';\n// cdktf is archived\nexport { B } from '@cdktf/provider-aws/lib/b/index.js';", 'x', FLAVOURS.cdktf, FLAVOURS.cdktn)).toBe(
        "export { A } from 'cdktn';\n// cdktf is archived\nexport { B } from '@cdktn/provider-aws/lib/b/index.js';",
      );
      const dir = mkdtempSync(join(tmpdir(), 'ddb-flatten-bypass-'));
      mkdirSync(join(dir, 'modules'));
      writeFileSync(join(dir, 'modules', 'cdk.js'), "export { App } from 'cdktf';");
      writeFileSync(join(dir, 'modules', 'sneaky.js'), "import { Fn } from 'cdktf';");
      writeFileSync(join(dir, 'modules', 'sneaky.d.ts'), "export declare const q: import('@cdktn/provider-aws/lib/sqs-queue/index.js').SqsQueue;");
      writeFileSync(join(dir, 'modules', 'fine.js'), "import { x } from './cdk.js'; // not 'cdktf-cli'");
      expect(bypassingSeams(dir).sort()).toEqual(['modules/sneaky.d.ts', 'modules/sneaky.js']);
      rmSync(dir, { recursive: true, force: true });
    });

    it('each flavour knows its core: CORE and the stamp', async () => {
      expect(CORE).toBe('cdktf');
      const built = (await import(join(flavourDir('cdktn'), 'modules', 'index.js'))) as { CORE: string };
      expect(built.CORE).toBe('cdktn');
      expect(JSON.parse(readFileSync(join(flavourDir('cdktn'), 'BUILD.json'), 'utf8'))).toMatchObject({ core: 'cdktn', bindings: '@cdktn/provider-aws' });
    });
  });

  describe('the same Terraform from both', () => {
    const PROP_SETS: Record<string, FlatteningPipelineProps> = {
      'every option on': FULL_PROPS,
      defaults: BASE_PROPS,
      'existing table and bucket, no trigger': {
        ...BASE_PROPS,
        sortKey: { name: 'sk', type: 'N' },
        table: { create: false, existingTableName: 'orders', existingStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x' },
        lake: { create: false, existingBucketName: 'shared-lake', existingKmsKeyArn: KMS },
        eventSourceMapping: { create: false },
        logs: { kmsKeyArn: KMS, retentionInDays: 90 },
      },
    };
    const work = mkdtempSync(join(tmpdir(), 'ddb-flatten-flavours-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));
    const stacks: Record<string, Record<FlavourName, { dir: string; json: Record<string, any> }>> = {};

    beforeAll(async () => {
      // Every synth in a process of its own, all at once.
      const runs = Object.entries(PROP_SETS).flatMap(([what, pipeline], i) =>
        (['cdktf', 'cdktn'] as const).map(async (flavour) => {
          const settings = { stackName: 'ddb-flatten', region: 'eu-west-1', defaultTags: { team: 'data' }, pipeline };
          const r = await runInFlavour(flavour, 'stack', { settings, outdir: join(work, `${i}-${flavour}`) });
          expect(r.core).toBe(flavour);
          (stacks[what] ??= {} as Record<FlavourName, { dir: string; json: Record<string, any> }>)[flavour] = {
            dir: r.stackDir,
            json: JSON.parse(readFileSync(join(r.stackDir, 'cdk.tf.json'), 'utf8')) as Record<string, any>,
          };
        }),
      );
      await Promise.all(runs);
    }, 180_000);

    for (const what of Object.keys(PROP_SETS)) {
      it(`the deployable stack (${what}): resources, data sources, locals, variables, outputs and moved blocks identical; only the listed differences elsewhere`, () => {
        const { cdktf, cdktn } = stacks[what]!;
        for (const section of ['resource', 'data', 'locals', 'variable', 'output', 'moved', 'provider']) {
          expect(cdktn.json[section], section).toEqual(cdktf.json[section]);
        }
        expect(Object.keys(cdktf.json.resource).length).toBeGreaterThan(10);
        expect(jsonDifferences(cdktf.json, cdktn.json)).toEqual(EXPECTED_DIFFERENCES);
        // The stack's constraint, not the bindings' pinned 6.x version: terraform can init 5.100 from the mirror.
        for (const f of [cdktf, cdktn]) expect(f.json.terraform.required_providers.aws.version).toBe('>= 5.100.0, < 7.0.0');
      });
    }

    it.skipIf(terraformSkip !== undefined)('terraform validate accepts the cdktn stack with the AWS provider 5.100 (no v6-only argument)', () => {
      for (const what of Object.keys(PROP_SETS)) {
        const dir = stacks[what]!.cdktn.dir;
        terraformInit(dir, { backend: false });
        const result = terraformValidate(dir);
        expect(result.diagnostics, `${what}: ${JSON.stringify(result.diagnostics, null, 2)}`).toEqual([]);
        expect(result.valid).toBe(true);
      }
    }, 240_000);

    it('the module build from cdktn is the committed terraform/, byte for byte, and the same JSON as from cdktf', () => {
      const fromCdktn = buildModule(join(work, 'module-cdktn', 'terraform'), { flavour: 'cdktn' });
      const stale = GENERATED_FILES.filter((f) => !readFileSync(join(MODULE_DIR, f)).equals(readFileSync(join(fromCdktn.dir, f))));
      expect(stale, 'the cdktn flavour builds another module than terraform/').toEqual([]);
      expect(jsonDifferences(builtModule().json, fromCdktn.json)).toEqual([]);
    }, 120_000);

    it('examples/cdktf and examples/cdktn, one app per core, synthesize the same Terraform', async () => {
      const run = (example: FlavourName): Promise<Record<string, any>> =>
        new Promise((resolve, reject) => {
          const outdir = join(work, `example-${example}`);
          const child = spawn(process.execPath, [join(REPO_ROOT, 'examples', example, 'main.ts')], { cwd: REPO_ROOT, env: { ...process.env, CDKTF_OUTDIR: outdir }, stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => {
            if (code !== 0) reject(new Error(`examples/${example}/main.ts exited ${code}:\n${stderr}`));
            else resolve(JSON.parse(readFileSync(join(outdir, 'stacks', 'orders-analytics', 'cdk.tf.json'), 'utf8')) as Record<string, any>);
          });
        });
      const [cdktf, cdktn] = await Promise.all([run('cdktf'), run('cdktn')]);
      expect(Object.keys(cdktf.resource).length).toBeGreaterThan(15);
      expect(jsonDifferences(cdktf, cdktn)).toEqual(EXPECTED_DIFFERENCES);
    }, 120_000);
  });

  describe('a mixed app fails at once, naming both packages', () => {
    const PROPS = BASE_PROPS;
    it('the cdktf construct in a cdktn stack', () => {
      const stack = new CdktnStack(new CdktnApp({ outdir: mkdtempSync(join(tmpdir(), 'ddb-flatten-mixed-')) }), 'orders');
      expect(() => new FlatteningPipeline(stack, 'pipeline', PROPS)).toThrow(
        `FlatteningPipeline "orders/pipeline" is built on cdktf (ddb-flatten/cdktf), but the stack "orders" is a cdktn stack: one app must use one CDK core, cdktf or cdktn, not both. In a cdktn app import it from 'ddb-flatten/cdktn'; in a cdktf app from 'ddb-flatten/cdktf'.`,
      );
      // Nothing was added to the stack before the error.
      expect(stack.node.children).toEqual([]);
    });
    it('the cdktf stack in a cdktn app', () => {
      expect(() => new FlatteningPipelineStack(new CdktnApp({ outdir: mkdtempSync(join(tmpdir(), 'ddb-flatten-mixed-')) }), 'orders', { pipeline: PROPS })).toThrow(
        /FlatteningPipelineStack "orders" is built on cdktf \(ddb-flatten\/cdktf\), but the app "\(app\)" is a cdktn app/,
      );
    });
    it('the cdktn construct in a cdktf stack, and inside a construct of the stack', async () => {
      const built = (await import(join(flavourDir('cdktn'), 'modules', 'index.js'))) as typeof import('../../modules/index.ts');
      const stack = new TerraformStack(Testing.app(), 'orders');
      expect(() => new built.FlatteningPipeline(stack, 'pipeline', PROPS)).toThrow(/is built on cdktn \(ddb-flatten\/cdktn\), but the stack "orders" is a cdktf stack.*import it from 'ddb-flatten\/cdktf'/);
      const { Construct } = await import('constructs');
      expect(() => new built.FlatteningPipeline(new Construct(stack, 'team'), 'pipeline', PROPS)).toThrow(/"orders\/team\/pipeline" is built on cdktn/);
    });
    it('the same core is fine', () => {
      expect(() => new FlatteningPipeline(new TerraformStack(Testing.app(), 'orders'), 'pipeline', PROPS)).not.toThrow();
    });
  });

  describe('from a fresh clone: npm run synth (cdktf) and npm run synth:cdktn', () => {
    it('both write their stack, with the same Terraform', async () => {
      // The repository's files as a clone has them (tracked and new, nothing ignored: no dist/), with this node_modules.
      const clone = mkdtempSync(join(tmpdir(), 'ddb-flatten-clone-'));
      try {
        const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' });
        expect(listed.status, listed.stderr).toBe(0);
        for (const file of listed.stdout.split('\0').filter(Boolean)) {
          if (!existsSync(join(REPO_ROOT, file))) continue;
          mkdirSync(dirname(join(clone, file)), { recursive: true });
          cpSync(join(REPO_ROOT, file), join(clone, file));
        }
        expect(existsSync(join(clone, 'dist'))).toBe(false);
        symlinkSync(join(REPO_ROOT, 'node_modules'), join(clone, 'node_modules'));
        const npm = (script: string): Promise<{ code: number | null; output: string }> =>
          new Promise((resolve, reject) => {
            const child = spawn('npm', ['run', script], { cwd: clone, env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
            let output = '';
            child.stdout.on('data', (d: Buffer) => (output += d.toString()));
            child.stderr.on('data', (d: Buffer) => (output += d.toString()));
            child.on('error', reject);
            child.on('close', (code) => resolve({ code, output }));
          });
        const [synth, synthCdktn] = await Promise.all([npm('synth'), npm('synth:cdktn')]);
        expect(synth.code, synth.output).toBe(0);
        expect(synthCdktn.code, synthCdktn.output).toBe(0);
        const read = (out: string) => JSON.parse(readFileSync(join(clone, out, 'stacks', 'ddb-flatten', 'cdk.tf.json'), 'utf8')) as Record<string, any>;
        const [cdktf, cdktn] = [read('cdktf.out'), read('cdktn.out')];
        expect(Object.keys(cdktf.resource).length).toBeGreaterThan(15);
        expect(jsonDifferences(cdktf, cdktn)).toEqual(EXPECTED_DIFFERENCES);
      } finally {
        rmSync(clone, { recursive: true, force: true });
      }
    }, 300_000);
  });
});
