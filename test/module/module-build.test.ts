import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MODULE_VARIABLES } from '../../stacks/module-variables.ts';
import { builtModule } from './module-build.ts';
import { synth } from './synth.ts';

describe('npm run build:module output', () => {
  const m = builtModule();
  it('has no provider block and no backend, and pins required_providers', () => {
    expect(m.main.provider).toBeUndefined();
    expect(m.main.terraform).toBeUndefined();
    expect(JSON.stringify(m.main)).not.toMatch(/"backend"|"\/\/"/);
    expect(m.versions.terraform.required_providers).toEqual({ aws: { source: 'hashicorp/aws', version: '>= 5.100.0, < 7.0.0' } });
    expect(m.versions.terraform.backend).toBeUndefined();
  });
  it('ships the Lambda zip inside the module, referenced through ${path.module}', () => {
    const fn = Object.values<any>(m.main.resource.aws_lambda_function)[0];
    expect(fn.filename).toBe('${path.module}/lambda/ddb-flatten-handler.zip');
    const zip = readFileSync(join(m.dir, 'lambda/ddb-flatten-handler.zip'));
    expect(zip.length).toBe(m.zipBytes);
    expect(fn.source_code_hash).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(JSON.stringify(m.main)).not.toContain('assets/');
  });
  it('every variable is typed and described; required ones have no default; the rest validate their values', () => {
    for (const spec of MODULE_VARIABLES) {
      const v = m.variables[spec.name];
      expect(v.type, spec.name).toBe(spec.type);
      expect(v.description.length, spec.name).toBeGreaterThan(10);
      for (const val of v.validation ?? []) {
        expect(val.condition).toMatch(/^\$\{.+\}$/s);
        expect(val.error_message).toMatch(new RegExp(`^${spec.name.replace(/[_]/g, '_')}|^create_|^[a-z_]+ must`));
      }
    }
    expect(Object.keys(m.variables).filter((k) => !('default' in m.variables[k])).sort()).toEqual(['explode_attributes', 'name', 'partition_key']);
    const unvalidated = Object.keys(m.variables).filter((k) => !m.variables[k].validation && m.variables[k].type !== 'bool');
    expect(unvalidated).toEqual([]);
  });
  it('every module variable reaches the resources or the outputs', () => {
    const text = JSON.stringify([m.main, m.outputs]);
    for (const name of Object.keys(m.variables)) expect(text, name).toContain(`var.${name}`);
  });
  it('has the same outputs as the CDKTF stack, named <service>_<resource>_<attr>, described', () => {
    const stackOutputs = Object.keys(synth().json.output);
    // The module also reports its own version.
    expect(Object.keys(m.outputs).sort()).toEqual([...stackOutputs, 'module_version'].sort());
    for (const [name, o] of Object.entries<any>(m.outputs).filter(([n]) => n !== 'module_version')) {
      expect(name).toMatch(/^(dynamodb|s3|glue|athena|lambda|sqs|cloudwatch|iam|scheduler)_[a-z0-9_]+$/);
      expect(o.description.length).toBeGreaterThan(5);
    }
  });
  it('the README has an inputs row per variable and an outputs row per output', () => {
    for (const name of Object.keys(m.variables)) expect(m.readme).toContain(`| ${name} |`);
    for (const name of Object.keys(m.outputs)) expect(m.readme).toContain(`| ${name} |`);
    expect(m.readme).toContain('>= 5.100.0, < 7.0.0');
    expect(existsSync(join(m.dir, 'README.md'))).toBe(true);
  });
});
