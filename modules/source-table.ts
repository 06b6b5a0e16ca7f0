import { Fn } from './cdk.ts';
import { Construct } from 'constructs';
import { DynamodbTable } from './aws.ts';
import { choose, countOf, gate, type Gate, gatedAttr, isAbsent, isToken, localString } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';
import { arnIn, type AwsLocation } from './arns.ts';

/**
 * The source DynamoDB table: on-demand, stream NEW_AND_OLD_IMAGES, PITR,
 * server-side encryption (AWS owned key, or the customer key), deletion
 * protection, and Time to Live on `table.ttlAttribute` when it is set. Or, with
 * `table.create = false`, an existing table's name and stream ARN.
 *
 * Time to Live is `ttl { attribute_name = <ttlAttribute>, enabled = true }` when
 * the attribute is set, and no block otherwise. The AWS provider leaves a table's
 * TTL as it is when no block is configured (it suppresses the missing block), so
 * removing the attribute does not turn TTL off; the module cannot write
 * `enabled = false` for it, since DynamoDB's UpdateTimeToLive needs the
 * attribute's name to disable TTL. docs/module.md says how to turn it off.
 */
export class SourceTable extends Construct {
  /** The created table (undefined when an existing table is used). */
  readonly table?: DynamodbTable;
  readonly gate: Gate;
  readonly tableName: string;
  readonly tableArn: string;
  readonly streamArn: string;
  /**
   * The table's and the stream's ARNs as the IAM policy documents use them.
   * A data source is read in every plan, a `-refresh-only` one too, where a
   * table deleted outside Terraform is gone from the state: `one(table[*].arn)`
   * is null there, and Terraform stops on the documents ("Null value found in
   * list", "Cannot include a null value in a string template") instead of
   * showing the drift. So the table's ARN is built from its name (the same
   * string as the attribute, and known at plan time on a first deploy), and the
   * stream's falls back to the table's own ARN only while the table is not in
   * the state. The stream actions match no table ARN, so that fallback grants
   * nothing, and it never reaches IAM: a refresh-only plan changes no policy,
   * and a normal plan creates the table and takes its new stream's ARN.
   */
  readonly policyTableArn: string;
  readonly policyStreamArn: string;
  /** A KMS key the stream reader needs (the table's CMK), if any. */
  readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, config: ResolvedConfig, here: AwsLocation) {
    super(scope, id);
    const c = config.table;
    this.gate = gate(c.create);
    const existingArn = (): string =>
      // arn:aws:dynamodb:region:account:table/NAME/stream/LABEL -> the table ARN
      // A missing stream ARN is reported by the module's precondition, not as an error inside split() (the placeholder is never used).
      isToken(c.existingStreamArn) ? Fn.element(Fn.split('/stream/', Fn.coalesce([c.existingStreamArn!, 'existing_stream_arn-is-not-set'])), 0) : c.existingStreamArn!.split('/stream/')[0];

    if (!this.gate.create) {
      this.tableName = c.existingTableName!;
      this.streamArn = c.existingStreamArn!;
      this.tableArn = existingArn();
      this.kmsKeyArn = c.existingKmsKeyArn;
      this.policyTableArn = this.tableArn;
      this.policyStreamArn = this.streamArn;
      return;
    }

    const pk = config.partitionKey;
    const sk = config.sortKey;
    const dynamicKeys = isToken(sk?.name);
    const table = named(new DynamodbTable(this, 'table', {
      ...countOf(this.gate),
      name: c.name,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: pk.name,
      rangeKey: sk?.name,
      attribute: dynamicKeys ? undefined : [pk, ...(sk ? [sk] : [])].map((k) => ({ name: k.name, type: k.type })),
      streamEnabled: true,
      streamViewType: 'NEW_AND_OLD_IMAGES',
      pointInTimeRecovery: { enabled: c.pointInTimeRecovery },
      serverSideEncryption: { enabled: true, kmsKeyArn: config.kmsKeyArn },
      deletionProtectionEnabled: c.deletionProtection,
      ttl: isToken(c.ttlAttribute) || c.ttlAttribute === undefined ? undefined : { attributeName: c.ttlAttribute, enabled: true },
      tags: config.tags,
    }), 'source');
    if (isToken(c.ttlAttribute)) {
      // Module build: the block only when ttl_attribute is set.
      table.addOverride('dynamic.ttl', { for_each: choose(isAbsent(c.ttlAttribute), [], [c.ttlAttribute]), content: { attribute_name: '${ttl.value}', enabled: true } });
    }
    if (dynamicKeys) {
      // Module build: the sort key is optional at plan time.
      const keys = Fn.concat([[{ name: pk.name, type: pk.type }], choose(isAbsent(sk!.name), [], [{ name: sk!.name, type: sk!.type }])]);
      table.addOverride('dynamic.attribute', { for_each: keys, content: { name: '${attribute.value.name}', type: '${attribute.value.type}' } });
    }
    this.table = table;
    const created = (attr: string, plain: string): string => gatedAttr(table, this.gate, attr, plain);
    if (this.gate.count === undefined) {
      this.tableName = table.name;
      this.tableArn = table.arn;
      this.streamArn = table.streamArn;
      this.kmsKeyArn = undefined;
    } else {
      this.tableName = choose(c.create, created('name', table.name), c.existingTableName!);
      this.tableArn = choose(c.create, created('arn', table.arn), existingArn());
      this.streamArn = choose(c.create, created('stream_arn', table.streamArn), c.existingStreamArn!);
      this.kmsKeyArn = c.existingKmsKeyArn;
    }
    const builtArn = arnIn(here, 'dynamodb', `table/${c.name}`);
    if (this.gate.count === undefined) {
      this.policyTableArn = builtArn;
      this.policyStreamArn = this.streamArn;
    } else {
      const tableArn = localString(this, 'table_arn_for_policies', builtArn);
      this.policyTableArn = choose(c.create, tableArn, existingArn());
      this.policyStreamArn = choose(c.create, Fn.coalesce([created('stream_arn', table.streamArn), tableArn]), c.existingStreamArn!);
    }
  }
}
