import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from '../../modules/cdk.ts';
import { describe, expect, it } from 'vitest';
import { loadStackSettings, settingsFromEnv } from '../../stacks/config.ts';
import { FlatteningPipelineStack } from '../../stacks/pipeline-stack.ts';

describe('the deployable stack', () => {
  it('reads the common settings from FLATTEN_* variables', () => {
    const s = settingsFromEnv({
      FLATTEN_NAME: 'invoices',
      FLATTEN_PARTITION_KEY: 'id:N',
      FLATTEN_SORT_KEY: 'ts',
      FLATTEN_EXPLODE_ATTRIBUTES: 'lines, taxes',
      FLATTEN_CARRY_ATTRIBUTES: 'status',
      FLATTEN_TRIGGER: 'disabled',
      FLATTEN_ALIAS_PINNED_VERSION: '4',
      AWS_REGION: 'eu-central-1',
    });
    expect(s.pipeline).toMatchObject({
      name: 'invoices',
      partitionKey: { name: 'id', type: 'N' },
      sortKey: { name: 'ts' },
      explodeAttributes: ['lines', 'taxes'],
      carryAttributes: ['status'],
      alias: { pinnedVersion: '4' },
      eventSourceMapping: { create: true, enabled: false },
    });
    expect(s.region).toBe('eu-central-1');
    expect(s.backend).toEqual({ type: 'local' });
    expect(settingsFromEnv({ FLATTEN_TRIGGER: 'none' }).pipeline.eventSourceMapping).toEqual({ create: false, enabled: false });
    expect(() => settingsFromEnv({ FLATTEN_TRIGGER: 'off' })).toThrow(/FLATTEN_TRIGGER: "off" is not allowed: use enabled, disabled or none/);
  });
  it('uses the S3 backend with S3 locking when a state bucket is given', () => {
    const settings = settingsFromEnv({ FLATTEN_STATE_BUCKET: 'tf-state' });
    expect(settings.backend).toEqual({ type: 's3', bucket: 'tf-state', key: 'ddb-flatten/ddb-flatten.tfstate', encrypt: true });
    const stack = new FlatteningPipelineStack(Testing.app(), 'ddb-flatten', settings);
    const json = JSON.parse(Testing.synth(stack));
    expect(json.terraform.backend.s3).toMatchObject({ bucket: 'tf-state', key: 'ddb-flatten/ddb-flatten.tfstate', encrypt: true, use_lockfile: true });
  });
  it('defaults to a local backend, sets default_tags and the provider constraint', () => {
    const stack = new FlatteningPipelineStack(Testing.app(), 'ddb-flatten', { ...settingsFromEnv({}), defaultTags: { team: 'data' } });
    const json = JSON.parse(Testing.synth(stack));
    expect(json.terraform.backend.local).toEqual({ path: 'terraform.ddb-flatten.tfstate' });
    expect(json.terraform.required_providers.aws).toEqual({ source: 'aws', version: '>= 5.100.0, < 7.0.0' });
    expect(json.provider.aws[0].default_tags).toEqual([{ tags: { team: 'data' } }]);
  });
  it('takes a whole config from FLATTEN_CONFIG or the cdktf context', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flatten-config-')), 'config.json');
    writeFileSync(file, JSON.stringify({ stackName: 'from-file', pipeline: { name: 'files', partitionKey: { name: 'pk' }, explodeAttributes: ['items'] } }));
    expect(loadStackSettings({ FLATTEN_CONFIG: file }, undefined)).toMatchObject({ stackName: 'from-file', pipeline: { name: 'files' } });
    const context = { pipeline: { name: 'ctx', partitionKey: { name: 'pk' }, explodeAttributes: ['items'] } };
    expect(loadStackSettings({}, context)).toMatchObject({ stackName: 'ddb-flatten', pipeline: { name: 'ctx' } });
    expect(() => loadStackSettings({}, { region: 'x' })).toThrow(/pipeline: required/);
  });
});
