import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../src/config/pipeline-config.ts';
import { builtModule, moduleFunctionEnvironment } from './module-build.ts';
import { KMS, synth } from './synth.ts';

/**
 * The function's environment is visible to anyone who can read the
 * function's configuration, so it must hold configuration only: names,
 * prefixes and references to this pipeline's own resources. No credential,
 * token or password may ever be put there.
 */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY/i;
const SECRET_VALUE = [/\bAKIA[0-9A-Z]{16}\b/, /\bASIA[0-9A-Z]{16}\b/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /\b[A-Za-z0-9/+]{40}\b/];
/** A value is configuration text, or a Terraform reference to one of the module's resources or variables. */
const ALLOWED_VALUE = /^(?:[A-Za-z0-9_,./:=-]*|\$\{[^}]+\})$/;

function environments(): [string, Record<string, string>][] {
  const fromSynth = (label: string, json: Record<string, any>) =>
    Object.values<Record<string, any>>(json.resource.aws_lambda_function).map((f) => [label, f.environment.variables as Record<string, string>] as [string, Record<string, string>]);
  return [
    ...fromSynth('defaults', synth().json),
    ...fromSynth('every option set', synth({ kmsKeyArn: KMS, sortKey: { name: 'sk', type: 'N' }, carryAttributes: ['customer_id'], lake: { dataPrefix: 'rows' } }).json),
    ...fromSynth('with history retention', synth({ compaction: { historyRetentionDays: 400 } }).json),
    // The module build merges HISTORY_RETENTION_DAYS into this map when history_retention_days is set (module-build.test.ts).
    ['Terraform module', moduleFunctionEnvironment(builtModule().main).variables],
  ];
}

describe('the function environment holds no secrets', () => {
  for (const [label, env] of environments()) {
    it(`${label}: only the handler's documented variables, none secret-looking`, () => {
      expect(Object.keys(env).length).toBeGreaterThanOrEqual(8);
      for (const [name, value] of Object.entries(env)) {
        expect(Object.keys(ENVIRONMENT), name).toContain(name);
        expect(name).not.toMatch(SECRET_NAME);
        for (const pattern of SECRET_VALUE) expect(String(value), name).not.toMatch(pattern);
        expect(String(value), name).toMatch(ALLOWED_VALUE);
      }
    });
  }

  it('the checks catch a secret (they can fail)', () => {
    expect('AKIAABCDEFGHIJKLMNOP').toMatch(SECRET_VALUE[0]!);
    expect('DB_PASSWORD').toMatch(SECRET_NAME);
    expect('hunter2 with spaces').not.toMatch(ALLOWED_VALUE);
  });
});
