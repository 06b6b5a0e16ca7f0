import { join } from 'node:path';
import { rowColumnNames } from '../../src/schema/row-schema.ts';
import { DuckDbLake } from '../../src/sql/duckdb-lake.ts';
import { quoteIdent } from '../../src/sql/views.ts';
import { EXPECTED_PREFIX } from './expected.ts';

/**
 * The checks, in DuckDB over the lake downloaded from S3, with the
 * repository's own current-state view (src/sql: the SQL Athena runs):
 *
 * - current view: its rows against the expected rows of each item's latest
 *   valid version (the model's truth, joined in SQL, not the view's logic),
 *   as multisets: expected rows missing are lost, rows beyond them doubled;
 * - raw lake: the expected rows of every valid record (each acknowledged
 *   version, or redriven) must all be there; rows no valid record gives are
 *   phantoms; rows stored more than once are what the view folds.
 *
 * Rows are compared by DuckDB's 64-bit hash of all their columns, counted
 * per hash: a few bytes per row instead of whole rows, so the aggregates
 * and joins stay small and spill when they outgrow DuckDB's memory cap
 * (whole-row EXCEPT ALL ran out of memory at a million records). Two
 * different rows sharing a hash among some ten million is a chance of
 * about 1 in 300,000, and it could only hide a difference, never invent one.
 * Lost versions and wrong items are looked up by row only when something
 * differs.
 */

export interface LakeFindings {
  readonly expectedCurrentRows: number;
  readonly currentRows: number;
  /** Expected current-view rows the view does not show. */
  readonly lost: number;
  /** Current-view rows beyond the expected ones (a duplicate, a stale or a resurrected version). */
  readonly doubled: number;
  /** Items whose current rows differ from the expected ones. */
  readonly itemsWrong: number;
  readonly expectedRawRows: number;
  readonly expectedVersions: number;
  /** Expected rows of valid records missing from the raw lake, and the versions they belong to. */
  readonly rawLostRows: number;
  readonly rawLostVersions: number;
  /** Lake rows that no valid record gives. */
  readonly phantomRows: number;
  readonly rawRows: number;
  readonly rawDistinctRows: number;
  readonly partitions: number;
}

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

export async function checkLake(
  lakeRoot: string,
  expectedRoot: string,
  latestCsv: string,
  prefix: string,
  carried: readonly string[],
  log: (line: string) => void = () => {},
): Promise<LakeFindings> {
  const lake = await DuckDbLake.open({ root: lakeRoot, prefix, carried });
  try {
    const names = rowColumnNames(carried).map(quoteIdent);
    const columns = names.join(', ');
    const rowHash = (alias = ''): string => `hash(${names.map((c) => `${alias}${c}`).join(', ')})`;
    const glob = sqlString(join(expectedRoot, EXPECTED_PREFIX, 'dt=*', '*.parquet'));
    const { table, currentView } = lake.names;
    const run = async (what: string, sql: string): Promise<void> => {
      const t = performance.now();
      await lake.query(sql);
      log(`checks: ${what} ${((performance.now() - t) / 1000).toFixed(1)} s`);
    };
    const one = async (sql: string): Promise<number> => Number(Object.values((await lake.query(sql))[0] ?? { n: 0 })[0] ?? 0);

    await lake.query(`CREATE VIEW expected AS SELECT ${columns} FROM read_parquet(${glob}, hive_partitioning = true, hive_types = {'dt': VARCHAR})`);
    await lake.query(
      `CREATE TABLE latest AS SELECT * FROM read_csv(${sqlString(latestCsv)}, header = true, quote = '"', escape = '"', columns = {'pk': 'VARCHAR', 'sk': 'VARCHAR', 'sequence': 'VARCHAR'})`,
    );
    await lake.query(
      `CREATE VIEW expected_current AS SELECT ${names.map((c) => `e.${c}`).join(', ')} FROM expected AS e JOIN latest AS l ON e.pk = l.pk AND e.sk = l.sk AND e.sequence = l.sequence WHERE e.value_type <> 'ABSENT'`,
    );
    // Row hashes with their multiplicity: what each side holds, as a multiset.
    await run('hash the current view', `CREATE TEMP TABLE current_h AS SELECT ${rowHash()} AS h, count(*) AS n FROM ${currentView} GROUP BY h`);
    await run('hash the expected current rows', `CREATE TEMP TABLE expected_current_h AS SELECT ${rowHash()} AS h, count(*) AS n FROM expected_current GROUP BY h`);
    await run('hash the raw lake', `CREATE TEMP TABLE raw_h AS SELECT ${rowHash()} AS h, count(*) AS n FROM ${table} GROUP BY h`);
    await run('hash the expected rows', `CREATE TEMP TABLE expected_h AS SELECT ${rowHash()} AS h, count(*) AS n FROM expected GROUP BY h`);
    await run(
      'compare the current view',
      `CREATE TEMP TABLE current_diff AS SELECT h, coalesce(e.n, 0) - coalesce(c.n, 0) AS missing FROM expected_current_h AS e FULL OUTER JOIN current_h AS c USING (h) WHERE coalesce(e.n, 0) <> coalesce(c.n, 0)`,
    );
    await run('compare the raw lake', `CREATE TEMP TABLE raw_lost_h AS SELECT h FROM expected_h ANTI JOIN raw_h USING (h)`);
    const lost = await one('SELECT coalesce(sum(missing), 0) FROM current_diff WHERE missing > 0');
    const doubled = await one('SELECT coalesce(sum(-missing), 0) FROM current_diff WHERE missing < 0');
    const rawLostRows = await one('SELECT count(*) FROM raw_lost_h');
    // Only when something differs: which items and versions (a pass over the rows, with the few hashes to find).
    const itemsWrong =
      lost + doubled === 0
        ? 0
        : await one(
            `SELECT count(*) FROM (SELECT pk, sk FROM expected_current WHERE ${rowHash()} IN (SELECT h FROM current_diff) UNION SELECT pk, sk FROM ${currentView} WHERE ${rowHash()} IN (SELECT h FROM current_diff))`,
          );
    const rawLostVersions = rawLostRows === 0 ? 0 : await one(`SELECT count(*) FROM (SELECT DISTINCT pk, sk, sequence FROM expected WHERE ${rowHash()} IN (SELECT h FROM raw_lost_h))`);
    return {
      expectedCurrentRows: await one('SELECT coalesce(sum(n), 0) FROM expected_current_h'),
      currentRows: await one('SELECT coalesce(sum(n), 0) FROM current_h'),
      lost,
      doubled,
      itemsWrong,
      expectedRawRows: await one('SELECT coalesce(sum(n), 0) FROM expected_h'),
      expectedVersions: await one('SELECT count(*) FROM (SELECT DISTINCT pk, sk, sequence FROM expected)'),
      rawLostRows,
      rawLostVersions,
      phantomRows: await one('SELECT coalesce(sum(n), 0) FROM raw_h ANTI JOIN expected_h USING (h)'),
      rawRows: await one('SELECT coalesce(sum(n), 0) FROM raw_h'),
      rawDistinctRows: await one('SELECT count(*) FROM raw_h'),
      partitions: await one(`SELECT count(DISTINCT dt) FROM ${table}`),
    };
  } finally {
    lake.close();
  }
}

export interface QuarantineFindings {
  /** Poison records the workload wrote. */
  readonly expected: number;
  /** Distinct records (by sequence number) in the quarantine. */
  readonly found: number;
  readonly objects: number;
  /** Records in more than one quarantine object: quarantining a record again must overwrite its object. */
  readonly quarantinedTwice: number;
  /** Poison records with no quarantine object. */
  readonly poisonMissing: number;
  /** Valid records that were quarantined. */
  readonly validQuarantined: number;
}

/** Quarantine objects are <prefix>/dt=…/<sequence>-<hash>.json: the sequence number says which record each holds. */
export function checkQuarantine(keys: readonly string[], poison: ReadonlySet<string>): QuarantineFindings {
  const found = new Map<string, number>();
  for (const key of keys) {
    const m = /\/(\d+)-[0-9a-f]+\.json$/.exec(key);
    const sequence = m ? m[1]! : key;
    found.set(sequence, (found.get(sequence) ?? 0) + 1);
  }
  let quarantinedTwice = 0;
  for (const n of found.values()) if (n > 1) quarantinedTwice++;
  let poisonMissing = 0;
  for (const s of poison) if (!found.has(s)) poisonMissing++;
  let validQuarantined = 0;
  for (const s of found.keys()) if (!poison.has(s)) validQuarantined++;
  return { expected: poison.size, found: found.size, objects: keys.length, quarantinedTwice, poisonMissing, validQuarantined };
}
