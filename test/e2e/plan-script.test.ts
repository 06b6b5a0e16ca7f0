import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { actionOf, awsCredentialSource, localAwsProvider, LOCAL_AWS_SERVICES, main, summarizePlan, summaryMarkdown, type PlanJson } from '../../scripts/plan.ts';

/** `npm run plan`: the summary, the credential check and the command line, without terraform (the e2e runs the real thing). */

const change = (address: string, actions: string[], mode = 'managed') => ({ address, mode, change: { actions } });

describe('npm run plan: the PR summary', () => {
  const plan: PlanJson = {
    terraform_version: '1.11.4',
    resource_changes: [
      change('aws_s3_bucket.lake', ['no-op']),
      change('aws_lambda_function.fn', ['update']),
      change('aws_lambda_alias.live', ['update']),
      change('aws_glue_catalog_table.view', ['delete', 'create']),
      change('aws_sqs_queue.dlq', ['create', 'delete']),
      change('aws_athena_named_query.q', ['create']),
      change('aws_cloudwatch_metric_alarm.old', ['delete']),
      change('data.aws_iam_policy_document.doc', ['read'], 'data'),
    ],
  };

  it('names each change by its action; delete+create in either order is a replace', () => {
    expect(actionOf(['create'])).toBe('create');
    expect(actionOf(['delete', 'create'])).toBe('replace');
    expect(actionOf(['create', 'delete'])).toBe('replace');
    expect(actionOf(['no-op'])).toBe('no-op');
    expect(actionOf(['forget'])).toBe('forget');
  });

  it('counts resources per action, data sources apart, and lists what changes', () => {
    const s = summarizePlan(plan);
    expect(s.counts).toEqual({ create: 1, update: 2, replace: 2, delete: 1, 'no-op': 1, 'read (data source)': 1 });
    expect(s.changes).toEqual([
      ['update', 'aws_lambda_function.fn'],
      ['update', 'aws_lambda_alias.live'],
      ['replace', 'aws_glue_catalog_table.view'],
      ['replace', 'aws_sqs_queue.dlq'],
      ['create', 'aws_athena_named_query.q'],
      ['delete', 'aws_cloudwatch_metric_alarm.old'],
    ]);
  });

  it('renders a markdown table and a collapsible list, or says there is nothing to do', () => {
    const md = summaryMarkdown(summarizePlan(plan), 'stack `ddb-flatten`');
    expect(md).toContain('### Terraform plan: stack `ddb-flatten`');
    expect(md).toContain('| replace | 2 |');
    expect(md).toContain('<details><summary>6 resources to change</summary>');
    expect(md).toContain('- **replace** `aws_glue_catalog_table.view`');
    expect(md).toContain('Terraform 1.11.4');
    const empty = summaryMarkdown(summarizePlan({ resource_changes: [change('aws_s3_bucket.lake', ['no-op'])] }), 'x');
    expect(empty).toContain('| no-op | 1 |');
    expect(empty).toContain('No changes');
    expect(empty).not.toContain('<details>');
  });
});

describe('npm run plan: targets', () => {
  const home = mkdtempSync(join(tmpdir(), 'ddb-flatten-plan-home-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('finds credentials in the environment or the shared files, and nothing when there are none', () => {
    expect(awsCredentialSource({}, home)).toBeUndefined();
    expect(awsCredentialSource({ AWS_ACCESS_KEY_ID: 'AKIA' }, home)).toBe('AWS_ACCESS_KEY_ID');
    expect(awsCredentialSource({ AWS_PROFILE: 'ci' }, home)).toBe('profile ci');
    expect(awsCredentialSource({ AWS_WEB_IDENTITY_TOKEN_FILE: '/token' }, home)).toBe('web identity token');
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'config'), '[default]\nregion = eu-west-1\n');
    expect(awsCredentialSource({}, home)).toBe(join(home, '.aws', 'config'));
  });

  it('points every service the module uses at the local AWS, and leaves the account lookup on', () => {
    const p = localAwsProvider('http://127.0.0.1:5000');
    expect(p).toMatchObject({ region: 'us-east-1', skip_credentials_validation: true, skip_metadata_api_check: true, s3_use_path_style: true });
    expect(p).not.toHaveProperty('skip_requesting_account_id');
    expect(Object.keys((p.endpoints as Record<string, string>[])[0]!).sort()).toEqual([...LOCAL_AWS_SERVICES].sort());
    expect(new Set(Object.values((p.endpoints as Record<string, string>[])[0]!))).toEqual(new Set(['http://127.0.0.1:5000']));
  });

  it('refuses an unknown option, and prints help', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--locl'])).toBe(2);
      expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(/unknown option --locl .*did you mean --local/);
      expect(await main(['--help'])).toBe(0);
      expect(String(stdout.mock.calls.at(-1)?.[0])).toContain('Usage: npm run plan -- [--local] [--out DIR]');
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });
});
