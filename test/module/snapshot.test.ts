import { describe, expect, it } from 'vitest';
import { synth } from './synth.ts';

/**
 * A small snapshot of the synthesized stack: the resource addresses and the
 * settings a reviewer cares about. It changes when the module's shape does;
 * update it with `npx vitest run test/module -u` and review the diff.
 */
describe('synthesized JSON snapshot', () => {
  it('matches', () => {
    const { json } = synth({ sortKey: { name: 'sk' }, carryAttributes: ['status'] });
    const addresses = Object.entries<any>(json.resource)
      .flatMap(([type, rs]) => Object.keys(rs).map((id) => `${type}.${id}`))
      .concat(Object.entries<any>(json.data).flatMap(([type, ds]) => Object.keys(ds).map((id) => `data.${type}.${id}`)))
      .sort();
    const fn = Object.values<any>(json.resource.aws_lambda_function)[0];
    const esm = Object.values<any>(json.resource.aws_lambda_event_source_mapping)[0];
    const { source_code_hash: _hash, filename: _file, ...fnSettings } = fn;
    delete fnSettings['//'];
    delete esm['//'];
    expect({ addresses, function: fnSettings, trigger: esm, outputs: Object.keys(json.output).sort() }).toMatchSnapshot();
  });
});
