import { sibling, type ReviewContext } from '../context.ts';
import { actionOf, destroys, expressionOf, sensitiveAt, unknownAt, valueAt, type ResourceChange } from '../plan.ts';
import { described, kindOf } from '../pipeline-resources.ts';
import { diffPolicies, KNOWN_AFTER_APPLY, parsePolicy, statementsFromDocument, type Statement, type StatementChange } from '../policy-diff.ts';

/**
 * Access: IAM statements added or removed (actions and resources), trust
 * and bucket policies, Lambda invoke permissions, policy attachments;
 * whatever widens access is flagged. A policy known only after apply is
 * read from the aws_iam_policy_document data source it is built from,
 * where the plan has its statements with the unknown parts marked.
 */

export interface AccessChange {
  readonly address: string;
  readonly instance?: string;
  readonly type: string;
  /** "IAM role policy `ddb-flatten`". */
  readonly what: string;
  readonly action: string;
  /** The attribute holding the policy (`policy`, `assume_role_policy`). */
  readonly attribute: string;
  readonly changes: readonly StatementChange[];
  /** The new policy is known only after apply. */
  readonly afterUnknown: boolean;
  /** The new statements come from the data source the policy is built from. */
  readonly fromDocument?: string;
  /** Every reason this change widens access. */
  readonly widens: readonly string[];
}

/** Resource types holding a policy document, and the attribute. */
const POLICY_ATTRIBUTES: Readonly<Record<string, string>> = {
  aws_iam_role_policy: 'policy',
  aws_iam_policy: 'policy',
  aws_iam_role: 'assume_role_policy',
  aws_s3_bucket_policy: 'policy',
  aws_sqs_queue_policy: 'policy',
  aws_kms_key: 'policy',
};

/** The statements a policy attribute will hold after apply, when its data source tells them. */
function documentStatements(ctx: ReviewContext, rc: ResourceChange, attribute: string): { statements: Statement[]; address: string } | undefined {
  for (const ref of expressionOf(ctx.plan, rc, attribute)?.references ?? []) {
    const m = /^data\.aws_iam_policy_document\.([^.[\]]+)/.exec(ref);
    if (!m) continue;
    const doc = sibling(ctx, rc, 'data', 'aws_iam_policy_document', m[1]!);
    if (doc?.change.after) return { statements: statementsFromDocument(doc.change.after.statement, valueAt(doc.change.after_unknown, ['statement']) as never), address: doc.address };
  }
  return undefined;
}

/** An invoke permission as the statement it adds to the function's resource policy. */
function permissionStatement(values: Record<string, any> | null | undefined, unknown: unknown): Statement[] {
  if (!values) return [];
  const v = (key: string): string | undefined => (unknownAt(unknown, [key]) ? KNOWN_AFTER_APPLY : typeof values[key] === 'string' && values[key] !== '' ? values[key] : undefined);
  const conditions = [v('source_arn') && `ArnLike AWS:SourceArn = ${v('source_arn')}`, v('source_account') && `StringEquals AWS:SourceAccount = ${v('source_account')}`].filter((c): c is string => !!c);
  return [
    {
      sid: v('statement_id'),
      effect: 'Allow',
      actions: [v('action') ?? 'lambda:InvokeFunction'],
      notActions: [],
      resources: [`${v('function_name') ?? '?'}${v('qualifier') ? `:${v('qualifier')}` : ''}`],
      notResources: [],
      principals: [v('principal') ?? '?'],
      notPrincipals: [],
      conditions,
    },
  ];
}

function attachmentStatement(values: Record<string, any> | null | undefined): Statement[] {
  if (!values) return [];
  return [{ sid: `attach ${values.policy_arn ?? '?'}`, effect: 'Allow', actions: [`(managed policy ${values.policy_arn ?? '?'})`], notActions: [], resources: [`role ${values.role ?? '?'}`], notResources: [], principals: [], notPrincipals: [], conditions: [] }];
}

function accessChange(ctx: ReviewContext, rc: ResourceChange): AccessChange | undefined {
  const action = actionOf(rc.change.actions);
  const policyAttribute = POLICY_ATTRIBUTES[rc.type];
  if (policyAttribute && (sensitiveAt(rc.change, 'before', [policyAttribute]) || sensitiveAt(rc.change, 'after', [policyAttribute]))) {
    return { address: rc.address, instance: ctx.instances.of(rc)?.id, type: rc.type, what: described(rc), action, attribute: policyAttribute, changes: [], afterUnknown: false, widens: ['the policy is marked sensitive: review it where you can see it'] };
  }
  const removing = action === 'delete';
  let attribute = POLICY_ATTRIBUTES[rc.type];
  let before: Statement[];
  let after: Statement[];
  let afterUnknown = false;
  let fromDocument: string | undefined;
  if (rc.type === 'aws_lambda_permission') {
    attribute = 'permission';
    before = permissionStatement(rc.change.before, undefined);
    after = removing ? [] : permissionStatement(rc.change.after, rc.change.after_unknown);
  } else if (rc.type === 'aws_iam_role_policy_attachment') {
    attribute = 'policy_arn';
    before = attachmentStatement(rc.change.before);
    after = removing ? [] : attachmentStatement(rc.change.after);
  } else if (attribute) {
    before = parsePolicy(rc.change.before?.[attribute]) ?? [];
    afterUnknown = !removing && unknownAt(rc.change.after_unknown, [attribute]);
    if (afterUnknown) {
      const doc = documentStatements(ctx, rc, attribute);
      after = doc?.statements ?? [];
      fromDocument = doc?.address;
    } else {
      after = removing ? [] : (parsePolicy(rc.change.after?.[attribute]) ?? []);
    }
  } else {
    return undefined;
  }
  if (afterUnknown && !fromDocument) {
    return { address: rc.address, instance: ctx.instances.of(rc)?.id, type: rc.type, what: described(rc), action, attribute, changes: [], afterUnknown, widens: ['the new policy is known only after apply: review it in the plan'] };
  }
  const changes = diffPolicies(before, after);
  if (changes.length === 0) return undefined;
  if (removing && rc.type === 'aws_s3_bucket_policy' && bucketDestroyed(ctx, rc.change.before?.bucket)) {
    // Its Deny statements go with the bucket they protect: nothing is left to reach.
    return { address: rc.address, instance: ctx.instances.of(rc)?.id, type: rc.type, what: described(rc), action, attribute, changes, afterUnknown, widens: [] };
  }
  // A brand-new policy grants everything it holds; only wildcards are worth a flag there.
  const widens = changes.flatMap((c) => (action === 'create' ? c.widens.filter((w) => w.startsWith('wildcard')) : c.widens).map((w) => `${c.label}: ${w}`));
  return { address: rc.address, instance: ctx.instances.of(rc)?.id, type: rc.type, what: described(rc), action, attribute, changes, afterUnknown, fromDocument, widens };
}

function bucketDestroyed(ctx: ReviewContext, bucket: unknown): boolean {
  return typeof bucket === 'string' && ctx.changes.some((o) => o.type === 'aws_s3_bucket' && o.change.before?.bucket === bucket && destroys(actionOf(o.change.actions)));
}

export function accessSection(ctx: ReviewContext): AccessChange[] {
  return ctx.changes
    .filter((rc) => rc.mode === 'managed' && actionOf(rc.change.actions) !== 'no-op')
    .filter((rc) => rc.type in POLICY_ATTRIBUTES || rc.type === 'aws_lambda_permission' || rc.type === 'aws_iam_role_policy_attachment' || kindOf(rc).role === 'bucket-policy')
    .flatMap((rc) => accessChange(ctx, rc) ?? []);
}
