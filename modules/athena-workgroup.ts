import { Construct } from 'constructs';
import { AthenaNamedQuery } from '@cdktf/provider-aws/lib/athena-named-query/index.js';
import { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup/index.js';
import { QUERIES, type QueryName, quoteIdent, renderSql, sqlTemplate } from '../src/sql/views.ts';
import { choose, isAbsent, isToken } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';

/** What each named query is for, shown in the Athena console. */
export const QUERY_DESCRIPTIONS: Readonly<Record<QueryName, string>> = {
  seed_table: "The seed's flattened table: one line per leaf of the current state (pk, key, value).",
  values_per_key_per_day: 'How many values each key received per day, and from how many items.',
  changes_per_day: 'Item versions per day by kind of change (INSERT, MODIFY, REMOVE, SNAPSHOT).',
};

/**
 * The Athena workgroup: engine version 3, its configuration enforced on
 * every query, results in the lake bucket under their own prefix and
 * encrypted (SSE_KMS with the customer key, or SSE_S3), a per-query
 * bytes-scanned cutoff, CloudWatch metrics on. Plus named queries: the
 * view's definition and the sample analyses.
 */
export class AthenaWorkgroupConstruct extends Construct {
  readonly workgroup: AthenaWorkgroup;
  readonly namedQueries: AthenaNamedQuery[] = [];

  constructor(scope: Construct, id: string, config: ResolvedConfig, bucketName: string, databaseName: string, viewSql: string) {
    super(scope, id);
    const noKms = isAbsent(config.kmsKeyArn);
    this.workgroup = new AthenaWorkgroup(this, 'workgroup', {
      name: config.athena.name,
      description: `ddb-flatten queries over the ${config.name} lake`,
      state: 'ENABLED',
      forceDestroy: config.athena.forceDestroy,
      configuration: {
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${bucketName}/${config.lake.athenaResultsPrefix}/`,
          encryptionConfiguration: {
            encryptionOption: choose(noKms, 'SSE_S3', 'SSE_KMS'),
            kmsKeyArn: config.kmsKeyArn,
          },
        },
      },
      tags: config.tags,
    });

    const g = config.glue;
    const q = (name: string): string => (isToken(name) ? `"${name}"` : quoteIdent(name));
    // SQL names the catalog objects by their configured names; `database` below references the resource (ordering).
    const names = { table: `${q(g.databaseName)}.${q(g.tableName)}`, currentView: `${q(g.databaseName)}.${q(g.viewName)}` };

    this.namedQueries.push(
      new AthenaNamedQuery(this, 'view-definition', {
        name: `${config.name} ${g.viewName} view`,
        description: `Re-creates the ${g.viewName} view (the module also registers it in Glue).`,
        workgroup: this.workgroup.id,
        database: databaseName,
        query: `CREATE OR REPLACE VIEW ${names.currentView} AS\n${viewSql}`,
      }),
    );
    for (const query of Object.keys(QUERIES) as QueryName[]) {
      const template = sqlTemplate(QUERIES[query]);
      // Sample queries name columns explicitly; only the view expands the column list.
      if (template.includes('{{columns}}')) throw new Error(`queries/${query}.sql uses {{columns}}; render it with the carried attributes`);
      this.namedQueries.push(
        new AthenaNamedQuery(this, `query-${query}`, {
          name: `${config.name} ${query}`,
          description: QUERY_DESCRIPTIONS[query],
          workgroup: this.workgroup.id,
          database: databaseName,
          query: renderSql(template, { ...names, carried: [] }),
        }),
      );
    }
  }
}
