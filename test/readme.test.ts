import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendSnapshotItem } from '../src/flatten/stream-record.ts';
import { PARTITION_COLUMN, ROW_COLUMNS } from '../src/schema/row-schema.ts';

/** The README stays true: its schema table is the schema, and CI runs the test command it documents. */
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every row column with its Glue type and nullability, in schema order', () => {
    const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| ([a-z]+)(?: \(partition\))? \| (yes|no) \|/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(rows).toEqual([...ROW_COLUMNS, PARTITION_COLUMN].map((c) => [c.name, c.glue, c.nullable ? 'yes' : 'no']));
  });

  it('gives the set-up and test commands that .ci/run runs', () => {
    expect(readme).toMatch(/```sh\nnpm install\nnpm test\n```/);
    const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
  });

  it('shows the seed example as the engine flattens it', () => {
    const example = /The seed's item `(\{.*\})`\ngives (`\(.*\)`) and (`\(.*\)`)\./.exec(readme);
    expect(example).not.toBeNull();
    const batch = new RowBatch();
    appendSnapshotItem(new Flattener({ attributes: ['items'], partitionKey: 'pk', carry: [] }), batch, JSON.parse(example![1]!), 0, 'readme');
    const tuples = [...batch.rows()].map((r) => `\`(${[r.pk, r.sk, r.attribute, r.item_index, r.key, r.value, r.value_type].map(String).join(', ')})\``);
    expect(tuples).toEqual([example![2], example![3]]);
  });
});
