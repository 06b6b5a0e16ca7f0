import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument, IamRole, IamRolePolicy, SchedulerSchedule } from './aws.ts';
import { named } from './addresses.ts';
import { countOf, gate, type Gate, gatedAttr } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';

/** What the schedule sends: compact the closed days, then bring the checkpoint up to date. */
export const MAINTENANCE_PAYLOAD = { action: 'compact' } as const;

/**
 * The daily maintenance run: an EventBridge Scheduler schedule that invokes
 * the function's alias with {"action":"compact"}, through a role that may
 * invoke that alias and nothing else. Scheduler invokes asynchronously, so
 * the alias's async invoke configuration (bounded retries, the DLQ) applies;
 * a missed run is caught up by the next one (each run looks back
 * `compaction.lookbackDays` days and finishes interrupted work).
 */
export class MaintenanceSchedule extends Construct {
  readonly gate: Gate;
  readonly role?: IamRole;
  readonly schedule?: SchedulerSchedule;

  constructor(scope: Construct, id: string, config: ResolvedConfig, inputs: { aliasArn: string; invokeArn: string }) {
    super(scope, id);
    this.gate = gate(config.compaction.create);
    if (!this.gate.create) return;
    const count = countOf(this.gate);
    const assume = named(
      new DataAwsIamPolicyDocument(this, 'assume-role', {
        ...count,
        statement: [{ sid: 'SchedulerAssumeRole', effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['scheduler.amazonaws.com'] }] }],
      }),
      'scheduler_assume_role',
    );
    this.role = named(
      new IamRole(this, 'role', {
        ...count,
        name: `${config.compaction.scheduleName}-scheduler`,
        description: `Lets EventBridge Scheduler start the maintenance run of the ddb-flatten pipeline ${config.name}`,
        assumeRolePolicy: gatedAttr(assume, this.gate, 'json', assume.json),
        tags: config.tags,
      }),
      'scheduler',
      { introduced: '0.3.0' },
    );
    const invoke = named(
      new DataAwsIamPolicyDocument(this, 'invoke', {
        ...count,
        // The alias's ARN as built from its name (see stableArns): the document is not deferred by a new version.
        statement: [{ sid: 'InvokeTheAliasOnly', effect: 'Allow', actions: ['lambda:InvokeFunction'], resources: [inputs.invokeArn] }],
      }),
      'scheduler',
    );
    const roleId = gatedAttr(this.role, this.gate, 'id', this.role.id);
    named(
      new IamRolePolicy(this, 'policy', { ...count, name: 'ddb-flatten-scheduler', role: roleId, policy: gatedAttr(invoke, this.gate, 'json', invoke.json) }),
      'scheduler',
      { introduced: '0.3.0' },
    );
    this.schedule = named(
      new SchedulerSchedule(this, 'schedule', {
        ...count,
        name: config.compaction.scheduleName,
        description: `Daily maintenance of the ${config.name} lake: compacts the closed days and writes a checkpoint of the current state.`,
        scheduleExpression: config.compaction.scheduleExpression,
        scheduleExpressionTimezone: 'UTC',
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: inputs.aliasArn,
          roleArn: gatedAttr(this.role, this.gate, 'arn', this.role.arn),
          input: JSON.stringify(MAINTENANCE_PAYLOAD),
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
        },
      }),
      'maintenance',
      { introduced: '0.3.0' },
    );
  }

  /** The schedule's name (null/absent when not created). */
  get scheduleName(): string | undefined {
    if (!this.schedule) return undefined;
    return gatedAttr(this.schedule, this.gate, 'name', this.schedule.name);
  }
}
