import { Construct } from 'constructs';
import { AthenaNamedQuery, AthenaWorkgroup } from './aws.ts';
import { QUERIES, type QueryName, quoteIdent, renderSql, sqlTemplate } from '../src/sql/views.ts';
import { choose, isAbsent, isToken } from './expressions.ts';
import type { GlueCatalog } from './glue-catalog.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';
import { elementColumnName } from '../src/schema/element-views.ts';

/** First lines of a view's named query: it is the view's SQL, not a statement that re-creates the view. */
function viewCopyHeader(view: string): string {
  return `-- The SQL of the view ${view}, for reading and as a starting point for your own queries.\n-- The view itself belongs to Terraform (ddb-flatten module): a CREATE OR REPLACE VIEW run here would be reverted by the next apply.`;
}

/** The current-state view's copy reads every day; the view itself reads the latest checkpoint and the days after it. */
const CHECKPOINT_NOTE =
  "-- The view reads the latest checkpoint of the current state and the days from its bound (the two\n-- literals below, moved by each maintenance run); this copy shows them as before the first checkpoint.";

/** What each named query is for, shown in the Athena console. */
export const QUERY_DESCRIPTIONS: Readonly<Record<QueryName, string>> = {
  seed_table: "The seed's flattened table: one line per leaf of the current state (pk, key, value).",
  values_per_key_per_day: 'How many values each key received per day, and from how many items.',
  changes_per_day: 'Item versions per day by kind of change (INSERT, MODIFY, REMOVE, EXPIRE, SNAPSHOT).',
};

/**
 * The Athena workgroups, both on engine version 3 with their configuration
 * enforced on every query, results in the lake bucket under their own
 * prefix and encrypted (SSE_KMS with the customer key, or SSE_S3), a
 * per-query bytes-scanned cutoff and CloudWatch metrics:
 * - `lake`, the analysts' workgroup, with its named queries (the views'
 *   definitions and the sample analyses) and a tight cutoff (10 GiB);
 * - `maintenance`, where the function runs compaction and checkpoints as
 *   UNLOAD statements: a checkpoint reads the whole current state (about
 *   27 GB for a 1 B-item table), which the analysts' cutoff would cancel,
 *   so it has its own (1 TiB), and its results (the UNLOAD manifests and
 *   metadata) have their own prefix, the only one of Athena's results the
 *   function may read.
 */
export class AthenaWorkgroupConstruct extends Construct {
  readonly workgroup: AthenaWorkgroup;
  readonly maintenanceWorkgroup: AthenaWorkgroup;
  readonly namedQueries: AthenaNamedQuery[] = [];

  constructor(scope: Construct, id: string, config: ResolvedConfig, bucketName: string, databaseName: string, catalog: Pick<GlueCatalog, 'viewSql' | 'expiredViewSql' | 'elementViewSql'>) {
    super(scope, id);
    const noKms = isAbsent(config.kmsKeyArn);
    const workgroupConfiguration = (cutoff: number, resultsPrefix: string) => ({
      enforceWorkgroupConfiguration: true,
      publishCloudwatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: cutoff,
      engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
      resultConfiguration: {
        outputLocation: `s3://${bucketName}/${resultsPrefix}/`,
        encryptionConfiguration: {
          encryptionOption: choose(noKms, 'SSE_S3', 'SSE_KMS'),
          kmsKeyArn: config.kmsKeyArn,
        },
      },
    });
    this.workgroup = named(new AthenaWorkgroup(this, 'workgroup', {
      name: config.athena.name,
      description: `ddb-flatten queries over the ${config.name} lake`,
      state: 'ENABLED',
      forceDestroy: config.athena.forceDestroy,
      configuration: workgroupConfiguration(config.athena.bytesScannedCutoffPerQuery, config.lake.athenaResultsPrefix),
      tags: config.tags,
    }), 'lake');
    this.maintenanceWorkgroup = named(new AthenaWorkgroup(this, 'maintenance-workgroup', {
      name: config.athena.maintenanceName,
      description: `ddb-flatten maintenance of the ${config.name} lake: compaction and checkpoints, as UNLOAD statements the function starts`,
      state: 'ENABLED',
      forceDestroy: config.athena.forceDestroy,
      configuration: workgroupConfiguration(config.athena.maintenanceBytesScannedCutoffPerQuery, config.athena.maintenanceResultsPrefix),
      tags: config.tags,
    }), 'maintenance', { introduced: '0.4.0' });

    const g = config.glue;
    const q = (name: string): string => (isToken(name) ? `"${name}"` : quoteIdent(name));
    // SQL names the catalog objects by their configured names; `database` below references the resource (ordering).
    const names = { table: `${q(g.databaseName)}.${q(g.tableName)}`, currentView: `${q(g.databaseName)}.${q(g.viewName)}` };

    // The views belong to Terraform (Glue tables of this module); the named queries are read-only copies of their SQL.
    this.namedQueries.push(
      named(new AthenaNamedQuery(this, 'view-definition', {
        name: `${config.name} ${g.viewName} view`,
        description: `The SQL of the ${g.viewName} view (a copy: Terraform manages the view itself).`,
        workgroup: this.workgroup.id,
        database: databaseName,
        query: `${viewCopyHeader(names.currentView)}\n${CHECKPOINT_NOTE}\n${catalog.viewSql}`,
      }), 'current_state_view'),
      named(new AthenaNamedQuery(this, 'expired-items-view-definition', {
        name: `${config.name} ${g.expiredItemsViewName} view`,
        description: `The SQL of the ${g.expiredItemsViewName} view, the items Time to Live deleted (a copy: Terraform manages the view itself).`,
        workgroup: this.workgroup.id,
        database: databaseName,
        query: `${viewCopyHeader(`${q(g.databaseName)}.${q(g.expiredItemsViewName)}`)}\n${catalog.expiredViewSql}`,
      }), 'expired_items_view', { introduced: '0.4.0' }),
    );
    for (const element of catalog.elementViewSql) {
      const query = named(new AthenaNamedQuery(this, element.forEach ? 'element-views' : `element-view-${element.name}`, {
        name: `${config.name} ${element.name} view`,
        description: `The SQL of the ${element.name} view (a copy: Terraform manages the view itself).`,
        workgroup: this.workgroup.id,
        database: databaseName,
        query: `${viewCopyHeader(`${q(g.databaseName)}.${q(element.name)}`)}\n${element.sql}`,
      }), element.forEach ? 'element_view' : `element_view_${elementColumnName(element.attribute)}`, { introduced: '0.3.0' });
      if (element.forEach) query.addOverride('for_each', element.forEach);
      this.namedQueries.push(query);
    }
    for (const query of Object.keys(QUERIES) as QueryName[]) {
      const template = sqlTemplate(QUERIES[query]);
      // Sample queries name columns explicitly; only the view expands the column list.
      if (template.includes('{{columns}}')) throw new Error(`queries/${query}.sql uses {{columns}}; render it with the carried attributes`);
      this.namedQueries.push(
        named(new AthenaNamedQuery(this, `query-${query}`, {
          name: `${config.name} ${query}`,
          description: QUERY_DESCRIPTIONS[query],
          workgroup: this.workgroup.id,
          database: databaseName,
          query: renderSql(template, { ...names, carried: [] }),
        }), query),
      );
    }
  }
}
