import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEPRECATED_VARIABLES, MODULE_VARIABLES } from '../../stacks/module-variables.ts';
import { builtModule, moduleFunctionEnvironment } from './module-build.ts';
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
  it('every module variable reaches the resources or the outputs, but the deprecated ones, which reach nothing', () => {
    const text = JSON.stringify([m.main, m.outputs]);
    for (const name of Object.keys(m.variables).filter((n) => !(n in DEPRECATED_VARIABLES))) expect(text, name).toContain(`var.${name}`);
    for (const name of Object.keys(DEPRECATED_VARIABLES)) expect(text, `${name} is deprecated: no effect`).not.toContain(`var.${name}`);
  });
  it('a deprecated variable says so first, defaults to null (not set) and is still validated as before', () => {
    expect(Object.keys(DEPRECATED_VARIABLES)).toEqual(['compaction_max_task_bytes']);
    for (const [name, sentence] of Object.entries(DEPRECATED_VARIABLES)) {
      const v = m.variables[name];
      expect(v.description.startsWith(sentence), name).toBe(true);
      expect(sentence).toMatch(/^Deprecated: no effect since \d+\.\d+\.\d+ .*; removed in \d+\.\d+\.\d+\.$/);
      expect([v.default, v.nullable]).toEqual([null, true]);
      expect(v.validation, name).toHaveLength(1);
    }
    // compaction_max_task_bytes: 0.3.0's range, for a value that is set.
    expect(m.variables.compaction_max_task_bytes.validation[0].condition).toBe(
      '${var.compaction_max_task_bytes == null ? true : (var.compaction_max_task_bytes >= 1048576 && var.compaction_max_task_bytes <= 107374182400 && floor(var.compaction_max_task_bytes) == var.compaction_max_task_bytes)}',
    );
    // Nor does the function's environment carry the task size any more.
    const fn = Object.values<any>(m.main.resource.aws_lambda_function)[0];
    expect(fn.environment.variables).not.toHaveProperty('COMPACTION_MAX_TASK_BYTES');
  });
  it('the maintenance workgroup and the new inputs reach their resources', () => {
    const wg = m.main.resource.aws_athena_workgroup.maintenance;
    expect(wg.name).toBe('${coalesce(var.athena_workgroup_name, "${var.name}-flatten")}-maintenance');
    expect(wg.configuration.bytes_scanned_cutoff_per_query).toBe('${var.athena_maintenance_bytes_scanned_cutoff_per_query}');
    expect(wg.configuration.result_configuration.output_location).toMatch(/\/\$\{var\.athena_results_prefix\}\/maintenance\/$/);
    const { variables: env, expression } = moduleFunctionEnvironment(m.main);
    // HISTORY_RETENTION_DAYS only when history_retention_days is set: retention deletes history.
    expect(expression).toBe('${merge(local.function_environment, (length(compact([var.history_retention_days])) < 1) ? {} : {"HISTORY_RETENTION_DAYS" = var.history_retention_days})}');
    expect(env).not.toHaveProperty('HISTORY_RETENTION_DAYS');
    expect(env).toMatchObject({
      ATHENA_WORKGROUP: '${aws_athena_workgroup.maintenance.name}',
      CHECKPOINT_REBUILD_SHARE: '${var.checkpoint_rebuild_share}',
      CHECKPOINT_MAX_AGE_DAYS: '${var.checkpoint_max_age_days}',
    });
    expect(m.outputs.athena_maintenance_workgroup_name.value).toBe('${aws_athena_workgroup.maintenance.name}');
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
