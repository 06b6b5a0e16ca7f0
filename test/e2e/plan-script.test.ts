import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { awsCredentialSource, localAwsProvider, LOCAL_AWS_SERVICES, main } from '../../scripts/plan.ts';

/**
 * `npm run plan`: the credential check and the command line, without terraform. The e2e runs the
 * real thing, and test/review-plan.test.ts reviews real plans (summary.md is that review).
 */

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
      expect(await main(['--allow-replace'])).toBe(2);
      expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(/--allow-replace needs a value: ADDRESS/);
      expect(await main(['--help'])).toBe(0);
      const help = String(stdout.mock.calls.at(-1)?.[0]);
      expect(help).toContain('Usage: npm run plan -- [--local] [--out DIR] [--allow-replace ADDRESS ...]');
      // summary.md is the review, and its exit code is the command's.
      expect(help).toContain('3 the plan was written and the review does not (a stateful');
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });
});
