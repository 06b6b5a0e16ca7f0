import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLATTEN_COMMAND } from '../src/cli/flatten-command.ts';
import { main } from '../src/cli/main.ts';
import { rowColumnNames, SEQUENCE_WIDTH } from '../src/schema/row-schema.ts';
import { DuckDbLake } from '../src/sql/duckdb-lake.ts';
import { CLI_BIN, CLI_MAIN, exportLines, parseJsonl, runNode, tempDir, testIO } from './support/cli.ts';
import { readParquetWithDuckdb } from './support/duckdb.ts';
import { seedItem } from './support/stream-events.ts';

const SEED = [
  seedItem('A1', ['key1', 'value1'], ['key2', 'value2']),
  seedItem('A2', ['key1', 'value3'], ['key2', 'value4']),
  seedItem('A3', ['key1', 'value5'], ['key2', 'value6']),
];
const SEED_LINES = exportLines(SEED);
const AT = '2024-05-01T12:00:00Z';
const BASE = ['flatten', '--attributes', 'items', '--partition-key', 'pk', '--snapshot-time', AT];

/** The seed's flattened table, as the issue spells it out, in full schema rows. */
const SEED_ROWS = [
  ['A1', 0, 'key1', 'value1'],
  ['A1', 1, 'key2', 'value2'],
  ['A2', 0, 'key1', 'value3'],
  ['A2', 1, 'key2', 'value4'],
  ['A3', 0, 'key1', 'value5'],
  ['A3', 1, 'key2', 'value6'],
].map(([pk, item_index, key, value]) => ({
  pk,
  sk: null,
  attribute: 'items',
  item_index,
  key,
  value,
  value_type: 'S',
  event_name: 'SNAPSHOT',
  event_time: '2024-05-01T12:00:00.000Z',
  sequence: '0'.repeat(SEQUENCE_WIDTH),
  dt: '2024-05-01',
}));

let dir: string;
const file = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

beforeAll(() => {
  dir = tempDir('cli');
});

describe('ddb-flatten flatten: output', () => {
  it('turns the seed export into the seed rows, with exactly the schema column names in order', async () => {
    const input = file('seed.json', SEED_LINES);
    const r = await runNode(CLI_MAIN, [...BASE, input]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = parseJsonl(r.stdout);
    expect(rows).toEqual(SEED_ROWS);
    for (const row of rows) expect(Object.keys(row)).toEqual(rowColumnNames([]));
  });

  it('writes Parquet that DuckDB reads back as the same rows, through the bin wrapper', async () => {
    const input = file('seed-pq.json', SEED_LINES);
    const out = join(dir, 'seed.parquet');
    const r = await runNode(CLI_BIN, [...BASE, '--format', 'parquet', '--out', out, input]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(/3 items → 6 rows \(parquet\) written to/);
    const back = await readParquetWithDuckdb(out);
    // dt is the Hive partition, in the object path and not inside the file.
    expect(back.map((row) => ({ ...row, event_time: (row.event_time as Date).toISOString(), dt: '2024-05-01' }))).toEqual(SEED_ROWS);
  });

  it('reads gzip files and stdin (plain and gzip) to the same rows', async () => {
    const gz = file('seed.json.gz', gzipSync(SEED_LINES));
    const fromGz = await runNode(CLI_MAIN, [...BASE, gz]);
    const fromStdin = await runNode(CLI_MAIN, BASE, { input: SEED_LINES });
    const fromGzStdin = await runNode(CLI_MAIN, [...BASE, '-'], { input: gzipSync(SEED_LINES) });
    for (const r of [fromGz, fromStdin, fromGzStdin]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(parseJsonl(r.stdout)).toEqual(SEED_ROWS);
    }
  });

  it('reads several files in order, CRLF line ends and blank lines included', async () => {
    const a = file('a.json', exportLines(SEED.slice(0, 2)).replaceAll('\n', '\r\n') + '\r\n');
    const b = file('b.json', `\n${exportLines(SEED.slice(2)).trimEnd()}`); // no final newline
    const r = await runNode(CLI_MAIN, [...BASE, a, b]);
    expect(r.code).toBe(0);
    expect(parseJsonl(r.stdout)).toEqual(SEED_ROWS);
  });

  it('fills sk and carried columns, and floors the snapshot time to the second', async () => {
    const io = testIO(exportLines([{ pk: { S: 'A1' }, sk: { N: '7' }, customer_id: { S: 'C9' }, items: { L: [] } }]));
    const code = await main(['flatten', '--attributes', 'items', '--partition-key', 'pk', '--sort-key', 'sk', '--carry', 'customer_id', '--snapshot-time', '2024-05-01T23:59:59.999Z'], io.io);
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const [row] = parseJsonl(io.stdout());
    expect(Object.keys(row!)).toEqual(rowColumnNames(['customer_id']));
    expect(row).toMatchObject({ pk: 'A1', sk: '7', customer_id: 'C9', value: '[]', value_type: 'L', event_time: '2024-05-01T23:59:59.000Z', dt: '2024-05-01' });
  });

  it('defaults the snapshot time to now, floored to the second', async () => {
    const io = testIO(SEED_LINES, { now: Date.UTC(2025, 0, 2, 3, 4, 5, 678) });
    expect(await main(['flatten', '--attributes', 'items', '--partition-key', 'pk'], io.io)).toBe(0);
    expect(parseJsonl(io.stdout()).map((r) => r.event_time)).toEqual(Array(6).fill('2025-01-02T03:04:05.000Z'));
  });

  it('streams a large input in bounded batches to the same rows in both formats', async () => {
    const items = Array.from({ length: 30_000 }, (_, i) => seedItem(`P${i}`, ['a', `x${i}`], ['b', `y${i}`], ['c', `z${i}`]));
    const input = file('large.json.gz', gzipSync(exportLines(items)));
    const jsonl = await runNode(CLI_MAIN, [...BASE, input]);
    expect(jsonl.code).toBe(0);
    const rows = parseJsonl(jsonl.stdout);
    expect(rows.length).toBe(90_000); // more than one 65,536-row batch
    expect(rows[89_999]).toMatchObject({ pk: 'P29999', item_index: 2, key: 'c', value: 'z29999' });

    const out = join(dir, 'large.parquet');
    const pq = await runNode(CLI_MAIN, [...BASE, '--format', 'parquet', '--out', out, input]);
    expect(pq.code).toBe(0);
    const lake = join(dir, 'lake');
    mkdirSync(join(lake, 'flattened', 'dt=2024-05-01'), { recursive: true });
    copyFileSync(out, join(lake, 'flattened', 'dt=2024-05-01', 'large.parquet'));
    const db = await DuckDbLake.open({ root: lake });
    try {
      expect(await db.count(db.names.table)).toBe(90_000);
      expect(await db.count(db.names.currentView)).toBe(90_000);
      const [last] = await db.query(`SELECT * FROM ${db.names.table} WHERE pk = 'P29999' AND key = 'c'`);
      expect({ ...last, event_time: (last!.event_time as Date).toISOString() }).toEqual(rows[89_999]);
    } finally {
      db.close();
    }
  });
});

describe('ddb-flatten flatten: bad input names the file and line, exits 1 and leaves no --out file', () => {
  const good = exportLines(SEED.slice(0, 1));
  const cases: { name: string; content: string | Buffer; args?: string[]; message: (f: string) => string }[] = [
    { name: 'not-json.json', content: `${good}{"Item": {"pk": {"S": "A2"}`, message: (f) => `${f}:2: the line is not JSON` },
    { name: 'no-item.json', content: `${good}\n{"Items": {"pk": {"S": "A2"}}}\n`, message: (f) => `${f}:3: the line has no "Item"` },
    { name: 'array.json', content: `[1, 2]\n`, message: (f) => `${f}:1: expected a DynamoDB export line such as {"Item": {...}}, got an array` },
    { name: 'item-not-object.json', content: `${good}{"Item": "A2"}\n`, message: (f) => `${f}:2: "Item" must be an object of attributes` },
    { name: 'no-pk.json', content: `${good}{"Item": {"id": {"S": "A2"}}}\n`, message: (f) => `${f}:2: the item has no "pk" attribute, which --partition-key names` },
    {
      name: 'no-sk.json',
      content: `{"Item": {"pk": {"S": "A1"}, "sk": {"S": "x"}}}\n{"Item": {"pk": {"S": "A2"}}}\n`,
      args: ['--sort-key', 'sk'],
      message: (f) => `${f}:2: the item has no "sk" attribute, which --sort-key names`,
    },
    {
      name: 'unknown-type.json',
      content: `${good}${good}{"Item": {"pk": {"S": "A3"}, "items": {"L": [{"M": {"k": {"STRING": "v"}}}]}}}\n`,
      message: (f) => `${f}:3: attribute "items"[0].k: unknown type descriptor "STRING"`,
    },
    { name: 'unknown-key-type.json', content: `{"Item": {"pk": {"X": "A1"}}}\n`, message: (f) => `${f}:1: key "pk": unknown type descriptor "X"` },
    { name: 'bad-utf8.json', content: Buffer.concat([Buffer.from(good), Buffer.from([0xc3, 0x28, 0x0a])]), message: (f) => `${f}:2: the line is not valid UTF-8` },
  ];

  it.each(cases)('$name', async ({ name, content, args = [], message }) => {
    const input = file(name, content);
    const outDir = tempDir('cli-out');
    const out = join(outDir, 'rows.jsonl');
    const r = await runNode(CLI_MAIN, [...BASE, ...args, '--out', out, input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ddb-flatten: ${message(input)}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(outDir)).toEqual([]); // neither the file nor its temporary
  });

  it('truncated gzip', async () => {
    const items = Array.from({ length: 5000 }, (_, i) => seedItem(`P${i}-${(i * 2654435761) % 1e9}`, ['k', `${(i * 40503) % 65536}`]));
    const whole = gzipSync(exportLines(items));
    const input = file('truncated.json.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const outDir = tempDir('cli-out');
    const r = await runNode(CLI_MAIN, [...BASE, '--format', 'parquet', '--out', join(outDir, 'rows.parquet'), input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ddb-flatten: ${input.replaceAll('.', '\\.')}:\\d+: the gzip data is truncated`));
    expect(readdirSync(outDir)).toEqual([]);
    // the line number is where the data stops: every line before it was complete
    const line = Number(/:(\d+): /.exec(r.stderr)![1]);
    expect(line).toBeGreaterThan(1);
    expect(line).toBeLessThanOrEqual(items.length);
  });

  it('on stdout, says the output is partial when rows were written before the bad line', async () => {
    const items = Array.from({ length: 200_000 }, (_, i) => ({ pk: { S: `P${i}` }, items: { S: 'x' } }));
    const r = await runNode(CLI_MAIN, BASE, { input: `${exportLines(items)}not json\n` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('<stdin>:200001: the line is not JSON');
    // Rows go out a block at a time (about 1 MB of input each): what was written is said exactly.
    const said = /standard output is incomplete: ([\d,]+) rows were written before the error/.exec(r.stderr);
    expect(said).not.toBeNull();
    const written = Number(said![1]!.replaceAll(',', ''));
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(200_000);
    expect(parseJsonl(r.stdout)).toHaveLength(written);
  });

  it('writes nothing at all to stdout when the bad line comes within the first batch', async () => {
    const r = await runNode(CLI_MAIN, BASE, { input: `${SEED_LINES}oops\n` });
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toBe('ddb-flatten: <stdin>:4: the line is not JSON (Unexpected token \'o\', "oops" is not valid JSON)\n');
  });

  it('an interrupt (SIGINT) removes the temporary --out file', async () => {
    const outDir = tempDir('cli-out');
    const child = spawn(process.execPath, [CLI_MAIN, ...BASE, '--out', join(outDir, 'rows.jsonl')], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.write(SEED_LINES); // stdin stays open: the run is mid-way
    while (readdirSync(outDir).length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(outDir)[0]).toMatch(/^\.rows\.jsonl\..*\.partial$/);
    const [code] = await (child.kill('SIGINT'), once(child, 'exit'));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted (SIGINT)');
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('a missing input file fails before any output exists', async () => {
    const outDir = tempDir('cli-out');
    const r = await runNode(CLI_MAIN, [...BASE, '--out', join(outDir, 'x.jsonl'), join(dir, 'nope.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.json: cannot read: ENOENT/);
    expect(readdirSync(outDir)).toEqual([]);
  });
});

describe('ddb-flatten: command line', () => {
  const run = async (argv: string[], input = SEED_LINES, stdinTTY = false) => {
    const io = testIO(input, { stdinTTY });
    const code = await main(argv, io.io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };

  it('flatten --help documents every option', async () => {
    const r = await run(['flatten', '--help']);
    expect(r.code).toBe(0);
    for (const [name, spec] of Object.entries(FLATTEN_COMMAND.options)) {
      expect(r.stdout).toMatch(new RegExp(`--${name}${spec.value ? ` ${spec.value}` : ''}  +\\S`));
    }
    expect(r.stdout).toMatch(/^Usage: ddb-flatten flatten --attributes LIST --partition-key NAME/);
    expect(r.stdout).toContain('jsonl');
    expect(r.stdout).toContain('parquet');
    expect((await run(['help', 'flatten'])).stdout).toBe(r.stdout);
  });

  it('top-level help lists the commands; no command is a usage error', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Commands:\n {2}flatten +Flatten DynamoDB export lines/);
    expect((await run([])).code).toBe(2);
    const unknown = await run(['flaten']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "flaten": use flatten');
  });

  it.each([
    [['--format', 'csv'], '--format must be jsonl or parquet, got "csv"'],
    [['--formt', 'jsonl'], 'unknown option --formt for ddb-flatten flatten (did you mean --format?)'],
    [['--out'], '--out needs a value: FILE'],
    [['--help=yes'], '--help is a switch and takes no value'],
    [['--format', 'jsonl', '--format', 'parquet'], '--format is given more than once'],
    [['--snapshot-time', 'yesterday'], '--snapshot-time must be an ISO-8601 date-time with a zone, such as 2024-05-01T12:00:00Z, got "yesterday"'],
    [['--snapshot-time', '2024-05-01T12:00:00'], '--snapshot-time must be an ISO-8601 date-time with a zone'],
    [['--carry', 'Customer-Id'], '--carry: "Customer-Id" is not a valid carried attribute'],
    [['--carry', 'value'], '--carry: "value" is not a valid carried attribute: it clashes with the column or view name "value"'],
    [['--sort-key', 'pk'], '--sort-key must differ from --partition-key ("pk")'],
    [['--attributes', 'items,pk'], '--attributes: "pk" is a key attribute'],
  ])('%j is refused, naming the flag and what is allowed', async (extra, message) => {
    const base = extra.includes('--attributes') ? ['flatten', '--partition-key', 'pk'] : ['flatten', '--attributes', 'items', '--partition-key', 'pk'];
    const r = await run([...base, ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('requires --attributes and --partition-key, listing both', async () => {
    const r = await run(['flatten']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--attributes is required');
    expect(r.stderr).toContain('--partition-key is required');
  });

  it('does not wait on a terminal for input, and does not write Parquet to one', async () => {
    const noInput = await run(['flatten', '--attributes', 'items', '--partition-key', 'pk'], '', true);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toContain('no input: name export files');

    const io = testIO(SEED_LINES);
    Object.assign(io.io.stdout, { isTTY: true });
    expect(await main(['flatten', '--attributes', 'items', '--partition-key', 'pk', '--format', 'parquet'], io.io)).toBe(2);
    expect(io.stderr()).toContain('--format parquet writes binary data: use --out FILE');
  });

  it('refuses --out naming one of its inputs', async () => {
    const input = file('self.json', SEED_LINES);
    const r = await run([...BASE, '--out', input, input]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is also an input file');
  });

  it('--out replaces an existing file only on success', async () => {
    const out = file('existing.jsonl', 'previous\n');
    expect((await run([...BASE, '--out', out, '-'], 'not json\n')).code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
    expect((await run([...BASE, '--out', out, '-'])).code).toBe(0);
    expect(parseJsonl(readFileSync(out))).toEqual(SEED_ROWS);
  });

  it('--version prints the package version', async () => {
    const r = await runNode(CLI_BIN, ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
