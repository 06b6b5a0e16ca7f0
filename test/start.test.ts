import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { START_COMMAND } from '../src/local/main.ts';
import { syntheticRowCount } from '../src/local/seed.ts';
import { FolderStore } from '../src/lake/lake-store.ts';
import { currentStateInputs } from '../src/maintenance/view-inputs.ts';
import { DuckDbLake } from '../src/sql/duckdb-lake.ts';
import { runNode, runProcess, START_MAIN, tempDir } from './support/cli.ts';

const SEED_TABLE = `pk | key  | value
A1 | key1 | value1
A1 | key2 | value2
A2 | key1 | value3
A2 | key2 | value4
A3 | key1 | value5
A3 | key2 | value6`;

const SEED_ELEMENTS = `pk | item_index | key1   | key2
A1 | 0          | value1 | NULL
A1 | 1          | NULL   | value2
A2 | 0          | value3 | NULL
A2 | 1          | NULL   | value4
A3 | 0          | value5 | NULL
A3 | 1          | NULL   | value6`;

const AFTER_CHANGES = `pk | key  | value
A1 | key1 | value1
A1 | key2 | value2-updated
A2 | key1 | value3
A2 | key2 | value4`;

/** npm as the user runs it; under `npm test` npm tells us where it is. */
function npm(args: string[]) {
  const npmCli = process.env.npm_execpath;
  return npmCli && /\.c?js$/.test(npmCli) ? runProcess(process.execPath, [npmCli, ...args]) : runProcess('npm', args);
}

async function withLake<T>(root: string, fn: (lake: DuckDbLake) => Promise<T>): Promise<T> {
  const lake = await DuckDbLake.open({ root });
  try {
    return await fn(lake);
  } finally {
    lake.close();
  }
}

describe('npm start', () => {
  it('prints the seed table, then the current state after a MODIFY and a REMOVE', async () => {
    const lakeDir = join(tempDir('start'), 'lake');
    const r = await npm(['start', '--silent', '--', '--lake', lakeDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain(`seed_table.sql:\n\n${SEED_TABLE}\n\n`);
    expect(out).toContain(`per-element view items_elements (sql/views/element_view.sql, keys key1, key2):\n\n${SEED_ELEMENTS}\n\n3. MODIFY A1`);
    expect(out).toContain('stream: 3 records (INSERT, INSERT, INSERT)');
    expect(out).toContain('handler: 3 records → 6 rows in 1 Parquet object(s), 0 quarantined');
    expect(out).toContain('stream: 2 records (MODIFY, REMOVE)');
    expect(out).toContain(`4. current_state after the changes:\n\n${AFTER_CHANGES}\n\n`);
    expect(out).toContain('item versions by event: INSERT 3, MODIFY 1, REMOVE 1');

    // The lake itself, read independently: every version is kept, the REMOVE is a tombstone.
    await withLake(lakeDir, async (lake) => {
      const events = await lake.query(`SELECT pk, event_name, value_type, count(*) AS n FROM ${lake.names.table} GROUP BY ALL ORDER BY ALL`);
      expect(events.map((e) => [e.pk, e.event_name, e.value_type, Number(e.n)])).toEqual([
        ['A1', 'INSERT', 'S', 2],
        ['A1', 'MODIFY', 'S', 2],
        ['A2', 'INSERT', 'S', 2],
        ['A3', 'INSERT', 'S', 2],
        ['A3', 'REMOVE', 'ABSENT', 1],
      ]);
      const current = await lake.namedQuery('seed_table');
      expect(current.map((c) => `${c.pk} ${c.key} ${c.value}`)).toEqual(['A1 key1 value1', 'A1 key2 value2-updated', 'A2 key1 value3', 'A2 key2 value4']);
    });
  });

  it('starts each run from an empty lake, so the same run prints the same report', async () => {
    const lakeDir = join(tempDir('start-again'), 'lake');
    const first = await runNode(START_MAIN, ['--lake', lakeDir]);
    const second = await runNode(START_MAIN, ['--lake', lakeDir]);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.stdout.toString()).toBe(first.stdout.toString());
    const partitions = readdirSync(join(lakeDir, 'flattened'));
    const files = partitions.flatMap((p) => readdirSync(join(lakeDir, 'flattened', p)));
    expect(files.filter((f) => f.endsWith('.parquet'))).toHaveLength(2); // the second run's two batches only
  });

  it('never touches a folder it did not create', async () => {
    const lakeDir = tempDir('start-foreign');
    mkdirSync(join(lakeDir, 'flattened'));
    writeFileSync(join(lakeDir, 'flattened', 'keep.txt'), 'mine');
    const r = await runNode(START_MAIN, ['--lake', lakeDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not empty and was not made by npm start');
    expect(readFileSync(join(lakeDir, 'flattened', 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('--items 2000 runs synthetic items through in Lambda-sized batches and the row count matches', async () => {
    const lakeDir = join(tempDir('start-items'), 'lake');
    const r = await runNode(START_MAIN, ['--items', '2000', '--lake', lakeDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    const expected = syntheticRowCount(2000);
    expect(expected).toBe(7998);
    expect(out).toContain('handler: 2 invocations, 2 Parquet objects');
    expect(out).toMatch(/rows in current_state: +7,998 {2}expected 7,998\n/);
    expect(out).toMatch(/distinct items \(pk\): +2,000 {2}expected 2,000\n/);
    expect(out).toContain('verification: OK');
    expect(out).not.toContain('MISMATCH');
    await withLake(lakeDir, async (lake) => {
      expect(await lake.count(lake.names.table)).toBe(expected);
      expect(await lake.count(lake.names.currentView)).toBe(expected);
      const [types] = await lake.query(`SELECT count(DISTINCT pk) AS items, count(*) FILTER (WHERE value_type = 'N') AS numbers FROM ${lake.names.currentView}`);
      expect(Number(types!.items)).toBe(2000);
      expect(Number(types!.numbers)).toBe(expected / 2);
    });
  });

  it('--batch-size sets the records per handler call', async () => {
    const lakeDir = join(tempDir('start-batch'), 'lake');
    const r = await runNode(START_MAIN, ['--items', '250', '--batch-size', '100', '--lake', lakeDir]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('handler: 3 invocations, 3 Parquet objects');
    expect(r.stdout.toString()).toContain('verification: OK');
  });

  it('--days 3 simulates three days into the lake, compacts and checkpoints them: the view equals a Scan and reads far fewer bytes', async () => {
    const lakeDir = join(tempDir('start-days'), 'lake');
    const r = await runNode(START_MAIN, ['--days', '3', '--items', '200', '--batch-size', '10', '--lake', lakeDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    // The stream table: three consecutive days, one object per batch of at most 10 records.
    const days = [...out.matchAll(/^(\d{4}-\d{2}-\d{2}) \| ([\d,]+) +\| [\d,]+ +\| [\d,]+ +\| [\d,]+ +\| (\d+) +\| [\d,]+$/gm)].map((m) => ({ dt: m[1]!, records: Number(m[2]!.replace(/,/g, '')), objects: Number(m[3]) }));
    expect(days).toHaveLength(3);
    expect(days.map((d) => Date.parse(d.dt) - Date.parse(days[0]!.dt))).toEqual([0, 86_400_000, 2 * 86_400_000]);
    expect(days[0]!.records).toBe(203); // the seed's three items and the 200 synthetic ones
    // Each handler call takes at most 10 records, all of one day: one object each.
    for (const d of days) expect(d.objects).toBe(Math.ceil(d.records / 10));
    const objectsBefore = days.reduce((n, d) => n + d.objects, 0);
    expect(out).toMatch(new RegExp(`^total +\\| 3 compacted +\\| ${objectsBefore} → 3 `, 'm'));
    expect(out).toMatch(/checkpoint: written \d{4}-\d{2}-\d{2}-[0-9a-f]{16} \(bound \d{4}-\d{2}-\d{2}, 1 object\): 3 day\(s\) read/);
    expect(out).toMatch(/4\. current_state = a consistent Scan of the table \([\d,]+ rows, flattened\): before maintenance OK, after OK\n/);
    expect(out).toContain(`items A1-A3:\n\n${AFTER_CHANGES}\n\n`);
    expect(out).toContain('verification: OK');

    // The lake itself, read independently: one object a day, and the view reads the checkpoint only.
    const store = new FolderStore(lakeDir);
    const prefixes = { dataPrefix: 'flattened', statePrefix: 'state' };
    for (const d of days) expect((await store.list(`flattened/dt=${d.dt}/`)).map((o) => o.key)).toEqual([expect.stringMatching(/\/compacted-[0-9a-f]{16}-0000\.parquet$/)]);
    const reads = await currentStateInputs(store, prefixes);
    expect(reads).toMatchObject({ objects: 1, days: [], checkpoint: { objects: 1 } });
    const lakeBefore = /^lake before maintenance \| (\d+) +\| ([\d,]+) /m.exec(out)!;
    expect(Number(lakeBefore[1])).toBe(objectsBefore);
    expect(reads.bytes).toBeLessThan(Number(lakeBefore[2]!.replace(/,/g, '')) / 5);
    expect(out).toMatch(new RegExp(`^current_state after +\\| 1 +\\| ${reads.bytes.toLocaleString('en-US')} +\\| checkpoint `, 'm'));
    // The view through the checkpoint equals the latest version of every item ranked over the whole history.
    await withLake(lakeDir, async (lake) => {
      const columns = 'pk, sk, attribute, item_index, key, value, value_type';
      const history = await lake.query(`
        SELECT DISTINCT ${columns} FROM (
          SELECT *, rank() OVER (PARTITION BY pk, sk, attribute ORDER BY event_time DESC, sequence DESC) AS r FROM ${lake.names.table}
        ) WHERE r = 1 AND value_type <> 'ABSENT' ORDER BY ALL`);
      expect(lake.pointer.bound).toBe(new Date(Date.parse(days[2]!.dt) + 86_400_000).toISOString().slice(0, 10));
      expect(await lake.query(`SELECT ${columns} FROM ${lake.names.currentView} ORDER BY ALL`)).toEqual(history);
      expect(history.length).toBeGreaterThan(700);
    });

    // A plain run in the same folder starts from an empty lake: no checkpoint of this run is left to hide its rows.
    const plain = await runNode(START_MAIN, ['--lake', lakeDir]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.toString()).toContain(`4. current_state after the changes:\n\n${AFTER_CHANGES}\n\n`);
    expect(existsSync(join(lakeDir, 'state'))).toBe(false);
  });

  it('--help documents every option; bad values name the flag', async () => {
    const help = await runNode(START_MAIN, ['--help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(START_COMMAND.options)) expect(help.stdout.toString()).toContain(`--${name}`);
    const bad = await runNode(START_MAIN, ['--items', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('npm start: --items must be a whole number from 1 to 100,000,000, got "lots"\n');
    const noDays = await runNode(START_MAIN, ['--days', '0']);
    expect(noDays.code).toBe(2);
    expect(noDays.stderr).toBe('npm start: --days must be a whole number from 1 to 366, got "0"\n');
    const tooMany = await runNode(START_MAIN, ['--days', '2', '--items', '200000']);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toBe('npm start: --items must be a whole number from 1 to 100,000, got "200000"\n');
    const unknown = await runNode(START_MAIN, ['--item', '5']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option --item for npm start -- (did you mean --items?)');
  });
});

describe('DuckDbLake (the DuckDB side of npm start)', () => {
  it('an empty lake gives empty views with the schema column types, and refresh() picks up files', async () => {
    const root = tempDir('lake-empty');
    const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
    try {
      expect(await lake.count(lake.names.table)).toBe(0);
      expect(await lake.namedQuery('seed_table')).toEqual([]);
      const types = await lake.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'flattened' ORDER BY ordinal_position`);
      expect(types.map((t) => `${t.column_name} ${t.data_type}`)).toEqual([
        'pk VARCHAR', 'sk VARCHAR', 'attribute VARCHAR', 'item_index INTEGER', 'key VARCHAR', 'value VARCHAR', 'value_type VARCHAR',
        'event_name VARCHAR', 'event_time TIMESTAMP', 'sequence VARCHAR', 'customer_id VARCHAR', 'dt VARCHAR',
      ]);
      const demo = await runNode(START_MAIN, ['--lake', root]);
      expect(demo.code).toBe(0);
      expect(await lake.count(lake.names.table)).toBe(0); // views are built when opened...
      await lake.refresh();
      expect(await lake.count(lake.names.currentView)).toBe(4); // ...and rebuilt by refresh()
      // a carried column no file has yet reads as NULL, as in Athena
      expect(await lake.count(`(SELECT * FROM ${lake.names.table} WHERE customer_id IS NULL)`)).toBe(9);
    } finally {
      lake.close();
    }
    // a column list from elsewhere (e.g. Glue) sets the table's columns and their order
    const glueOrder = ['dt', 'pk', 'sk', 'attribute', 'item_index', 'key', 'value', 'value_type', 'event_name', 'event_time', 'sequence'];
    const copy = await DuckDbLake.open({ root, columns: glueOrder });
    try {
      const [first] = await copy.query(`SELECT * FROM ${copy.names.table} LIMIT 1`);
      expect(Object.keys(first!)).toEqual(glueOrder);
      expect(await copy.count(copy.names.currentView)).toBe(4);
    } finally {
      copy.close();
    }
  });

  it('refuses a prefix that is not a plain key prefix', async () => {
    await expect(DuckDbLake.open({ root: tempDir('lake-bad'), prefix: '../x' })).rejects.toThrow('lake prefix: "../x" is not a valid prefix');
  });
});
