import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../modules/lambda-bundle.ts';
import type { JsonDifference } from './json-diff.ts';

const version = (pkg: string): string => (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Everything a synthesized stack may differ in between the flavours, and why. Anything else that
 * differs fails the test; so does a listed difference that went away (the list must stay true).
 */
export const ALLOWED_DIFFERENCES: readonly (JsonDifference & { why: string })[] = [
  { path: '//.metadata.version', left: version('cdktf'), right: version('cdktn'), why: "CDKTF's metadata block records the core's version; Terraform ignores \"//\"." },
  {
    path: 'terraform.required_providers.aws.source',
    left: 'aws',
    right: 'hashicorp/aws',
    why: 'the cdktf bindings write the short form, the cdktn bindings the full one: both are registry.terraform.io/hashicorp/aws.',
  },
];

/** The same, as jsonDifferences(cdktf, cdktn) must return them. */
export const EXPECTED_DIFFERENCES: readonly JsonDifference[] = ALLOWED_DIFFERENCES.map(({ why: _why, ...d }) => d);
