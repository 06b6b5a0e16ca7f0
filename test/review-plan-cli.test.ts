import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { viewColumns } from '../modules/glue-catalog.ts';
import { prestoViewOriginalText } from '../modules/presto-view.ts';
import { deterministicZip } from '../modules/lambda-bundle.ts';
import { PIPELINE_TAG as MODULE_PIPELINE_TAG } from '../modules/naming.ts';
import { main } from '../src/cli/main.ts';
import { jsonSyntaxError } from '../src/review/json-error.ts';
import { unifiedDiff } from '../src/review/line-diff.ts';
import { PIPELINE_TAG } from '../src/review/pipeline-resources.ts';
import { diffPolicies, parsePolicy } from '../src/review/policy-diff.ts';
import { decodePrestoView } from '../src/review/presto-view.ts';
import { buildCli } from '../scripts/build-cli.ts';
import { CLI_MAIN, runNode, tempDir, testIO } from './support/cli.ts';

/**
 * review-plan without terraform: the command line, every way a plan file
 * can be unusable, and the small engines (line diff, policy diff, view
 * decoding, where JSON breaks). Reviews of real plans are in
 * review-plan.test.ts.
 */

const FIXTURES = new URL('./fixtures/review-plan/', import.meta.url).pathname;

async function reviewPlanCli(args: readonly string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = testIO(stdin);
  const code = await main(['review-plan', ...args], t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

describe('review-plan: bad input exits 2 with the file and what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-flatten-review-plan-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a file that is not JSON (terraform show without -json): where it breaks', async () => {
    const r = await reviewPlanCli([join(FIXTURES, 'not-json.txt')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ddb-flatten: ${join(FIXTURES, 'not-json.txt')} is not JSON: at line 1, column 1, expected a value but found "Terraform wi"; expected the output of terraform show -json tfplan\n`);
    expect(r.stdout).toBe('');
  });

  it('a truncated plan: says it was cut off, not that a token is wrong', async () => {
    const r = await reviewPlanCli([join(FIXTURES, 'truncated.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ddb-flatten: ${join(FIXTURES, 'truncated.json')} is truncated: it ends at line 1 (207 bytes) in the middle of a value; the file was cut off, write it again with terraform show -json tfplan\n`);
  });

  it('JSON that is not a plan: a state file, a state shown as JSON, an array', async () => {
    const state = join(dir, 'terraform.tfstate');
    writeFileSync(state, JSON.stringify({ version: 4, terraform_version: '1.11.4', serial: 7, lineage: 'x', resources: [] }));
    expect((await reviewPlanCli([state])).stderr).toContain('is JSON but not a Terraform plan (no format_version): it looks like a state file (.tfstate)');
    const shown = join(dir, 'state.json');
    writeFileSync(shown, JSON.stringify({ format_version: '1.0', terraform_version: '1.11.4', values: { root_module: {} } }));
    const r = await reviewPlanCli([shown]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a Terraform plan (no resource_changes or planned_values): it looks like terraform show -json of a state, not of a plan file');
    const array = join(dir, 'array.json');
    writeFileSync(array, '[]');
    expect((await reviewPlanCli([array])).stderr).toContain('array.json is JSON but not a Terraform plan: expected an object with format_version and resource_changes');
    const future = join(dir, 'future.json');
    writeFileSync(future, JSON.stringify({ format_version: '2.0', resource_changes: [] }));
    expect((await reviewPlanCli([future])).stderr).toContain('has plan format_version 2.0; this review reads format 1.x');
  });

  it('no file, a missing file, a directory, an empty file, and - for standard input', async () => {
    expect(await reviewPlanCli([])).toMatchObject({ code: 2, stderr: expect.stringContaining('review-plan needs a plan file') });
    expect((await reviewPlanCli([join(dir, 'nope.json')])).stderr).toBe(`ddb-flatten: ${join(dir, 'nope.json')}: no such file\n`);
    expect((await reviewPlanCli([dir])).stderr).toBe(`ddb-flatten: ${dir}: is a directory, not a plan file\n`);
    writeFileSync(join(dir, 'empty.json'), '');
    expect((await reviewPlanCli([join(dir, 'empty.json')])).stderr).toContain('empty.json is empty');
    const stdin = await reviewPlanCli(['-'], '{"format_version": "1.2",');
    expect(stdin).toMatchObject({ code: 2, stderr: expect.stringContaining('standard input is truncated') });
  });

  it('a binary plan file when terraform cannot be run: says what it needs', async () => {
    const planFile = join(dir, 'tfplan');
    writeFileSync(planFile, deterministicZip([{ name: 'tfplan', data: Buffer.from('not a real plan') }]));
    const t = testIO();
    const code = await main(['review-plan', planFile], { ...t.io, env: { TERRAFORM_BIN: join(dir, 'no-terraform-here') } });
    expect(code).toBe(2);
    expect(t.stderr()).toContain(`${planFile} is a binary plan file; reading it needs terraform (${join(dir, 'no-terraform-here')} is not on the PATH; set TERRAFORM_BIN), or give the JSON: terraform show -json ${planFile} > plan.json`);
  });

  it('bad flags name the flag and the allowed values', async () => {
    expect(await reviewPlanCli(['plan.json', '--format', 'yaml'])).toMatchObject({ code: 2, stderr: 'ddb-flatten: --format must be markdown or json, got "yaml" (see ddb-flatten review-plan --help)\n' });
    expect((await reviewPlanCli(['plan.json', '--alow-replace', 'x'])).stderr).toMatch(/unknown option --alow-replace for ddb-flatten review-plan \(did you mean --allow-replace\?\)/);
    expect((await reviewPlanCli(['plan.json', '--allow-replace'])).stderr).toContain('--allow-replace needs a value: ADDRESS');
    // "--allow-replace A B" reads B as a second plan file: the message says how to give two addresses.
    expect((await reviewPlanCli(['plan.json', '--allow-replace', 'a.b', 'c.d'])).stderr).toContain(
      'review-plan takes one plan file, got 2: "plan.json" "c.d"; give --allow-replace once per address (--allow-replace A --allow-replace B)',
    );
  });

  it('--help lists the options and the exit codes; the command is in the CLI\'s list', async () => {
    const r = await reviewPlanCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: ddb-flatten review-plan PLAN [--allow-replace ADDRESS ...] [--format markdown|json] [--docs-url URL]');
    expect(r.stdout).toContain('Exit codes: 0 the review vouches for the plan; 3 it does not: a stateful resource is destroyed,');
    const top = testIO();
    await main(['--help'], top.io);
    expect(top.stdout()).toMatch(/^ {2}review-plan +Review a Terraform plan of the pipeline/m);
  });
});

describe('review-plan in the bundled CLI (npm run build:cli)', () => {
  const dir = tempDir('review-plan-bundle');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is built in, and answers as the sources do', async () => {
    const bundled = buildCli(join(dir, 'dist')).find((f) => f.endsWith('ddb-flatten.mjs'))!;
    for (const args of [['review-plan', '--help'], ['review-plan', join(FIXTURES, 'truncated.json')]]) {
      const [fromSource, fromBundle] = await Promise.all([runNode(CLI_MAIN, args), runNode(bundled, args)]);
      expect(fromBundle.code).toBe(fromSource.code);
      expect(fromBundle.stderr).toBe(fromSource.stderr);
      expect(fromBundle.stdout.equals(fromSource.stdout)).toBe(true);
    }
  });
});

describe('review-plan engines', () => {
  it('finds where JSON breaks, and tells a cut-off text from a wrong token', () => {
    expect(jsonSyntaxError('{"a": [1, 2, {"b": null}], "c": "x\\"y"}')).toBeUndefined();
    expect(jsonSyntaxError('{\n  "a": 1\n  "b": 2\n}')).toEqual({ offset: 13, expected: "',' or '}' after a property value", truncated: false });
    expect(jsonSyntaxError('{"a": [1, 2')).toMatchObject({ offset: 11, truncated: true });
    expect(jsonSyntaxError('{"a": tr')).toMatchObject({ expected: 'true', truncated: true });
    expect(jsonSyntaxError('{"a": tru e}')).toMatchObject({ offset: 6, truncated: false });
    expect(jsonSyntaxError('{"a": 1} x')).toMatchObject({ offset: 9, expected: 'the end of the text after the JSON value' });
    expect(jsonSyntaxError('{"a": 01}')).toMatchObject({ offset: 7 });
  });

  it('writes a unified diff with hunks and context', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n');
    const after = ['a', 'b', 'C', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'].join('\n');
    expect(unifiedDiff(before, after, 1)).toBe(['@@ -2,3 +2,3 @@', ' b', '-c', '+C', ' d', '@@ -10,1 +10,2 @@', ' j', '+k'].join('\n'));
    expect(unifiedDiff(before, before)).toBe('');
    expect(unifiedDiff('', 'x')).toBe(['@@ -1,1 +1,1 @@', '-', '+x'].join('\n'));
  });

  it('decodes the Presto view envelope the module writes', () => {
    const sql = 'SELECT "pk" FROM "orders"."flattened"';
    const view = decodePrestoView(prestoViewOriginalText('orders', sql, viewColumns(['status'])));
    expect(view).toMatchObject({ sql, catalog: 'awsdatacatalog', schema: 'orders' });
    expect(view!.columns.map((c) => c.name)).toContain('status');
    expect(decodePrestoView('SELECT 1')).toBeUndefined();
    expect(decodePrestoView('/* Presto View: bm90IGpzb24= */')).toBeUndefined();
  });

  it('recognises the pipeline tag the module puts on every resource', () => {
    expect(PIPELINE_TAG).toBe(MODULE_PIPELINE_TAG);
  });

  describe('policy statements: what widens access', () => {
    const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
    const read = { Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::lake/flattened/*' };
    const diff = (before: object[], after: object[]) => diffPolicies(parsePolicy(doc(...before))!, parsePolicy(doc(...after))!);

    it('a new action, a new resource, a wildcard', () => {
      expect(diff([read], [{ ...read, Action: ['s3:GetObject', 's3:DeleteObject'] }])[0]!.widens).toEqual(['new actions s3:DeleteObject']);
      expect(diff([read], [{ ...read, Resource: ['arn:aws:s3:::lake/flattened/*', 'arn:aws:s3:::other/*'] }])[0]!.widens).toEqual(['new resources arn:aws:s3:::other/*']);
      expect(diff([read], [{ ...read, Resource: '*' }])[0]).toMatchObject({ kind: 'changed', resources: { added: ['*'], removed: ['arn:aws:s3:::lake/flattened/*'] }, widens: ['new resources *', 'wildcard `*`'] });
      expect(diff([], [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }])[0]).toMatchObject({ kind: 'added', widens: ['grants s3:*', 'wildcard `s3:*`, `*`'] });
    });

    it('a removed condition on an Allow, a removed or weakened Deny', () => {
      const scoped = { ...read, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } };
      expect(diff([scoped], [read])[0]!.widens).toEqual(['condition removed: StringEquals aws:SourceAccount = 123456789012']);
      const tls = { Sid: 'TlsOnly', Effect: 'Deny', Action: 's3:*', Principal: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
      expect(diff([tls], [])[0]).toMatchObject({ kind: 'removed', widens: ['a Deny statement is removed'] });
      expect(diff([tls], [{ ...tls, Effect: 'Allow' }])[0]!.widens).toContain('a Deny becomes an Allow');
    });

    it('narrowing is not flagged, and an unchanged policy has no changes', () => {
      expect(diff([{ ...read, Action: ['s3:GetObject', 's3:DeleteObject'] }], [read])[0]).toMatchObject({ actions: { added: [], removed: ['s3:DeleteObject'] }, widens: [] });
      expect(diff([read], [])[0]).toMatchObject({ kind: 'removed', widens: [] });
      expect(diff([read], [{ ...read, Action: 's3:GetObject' }])).toEqual([]);
    });
  });
});
