import { sibling, type ReviewContext } from '../context.ts';
import { actionOf, changedAttributes, expressionOf, isLiteral, sensitiveAt, unknownAt, valueAt, variableValue, type ResourceChange } from '../plan.ts';
import { kindOf, nameOf } from '../pipeline-resources.ts';

/**
 * Versions and traffic: what the function publishes, where the alias goes
 * and what the stream trigger invokes. The function has `publish = true`,
 * so any change to its code or configuration publishes version N+1 (the
 * plan marks `version` as known after apply); the alias either follows the
 * newest version (its function_version refers to the function's version)
 * or is pinned (a literal, or a pinning variable that is set), and a canary
 * is the alias's additional_version_weights.
 */

export interface FunctionVersion {
  readonly address: string;
  readonly instance?: string;
  readonly name?: string;
  readonly action: string;
  /** The newest published version today. */
  readonly versionBefore?: string;
  readonly publishes: boolean;
  /** The version this plan publishes (the next number), when it publishes one. */
  readonly versionAfter?: string;
  /** The zip's sha256 (hex) before and after; after is absent when known only after apply. */
  readonly code?: { readonly before?: string; readonly after?: string };
  /** Configuration that changes, e.g. `environment.SORT_KEY`, `memory_size`. */
  readonly configuration: readonly string[];
  readonly summary: string;
}

export interface AliasTraffic {
  readonly address: string;
  readonly instance?: string;
  readonly name?: string;
  readonly action: string;
  readonly mode: 'follows-newest' | 'pinned' | 'unknown';
  readonly versionBefore?: string;
  /** Where it points after the apply; absent when known only then and not predictable. */
  readonly versionAfter?: string;
  readonly canaryBefore: Readonly<Record<string, number>>;
  /** The canary after the apply: version -> weight; a version or weight may be known only after apply. */
  readonly canaryAfter?: { readonly version?: string; readonly weight?: number; readonly weights?: Readonly<Record<string, number>> };
  readonly summary: string;
}

export interface TriggerChange {
  readonly address: string;
  readonly instance?: string;
  readonly action: string;
  readonly target?: string;
  /** The pipeline stops reading, or starts over, while this applies. */
  readonly interrupts: boolean;
  readonly summary: string;
}

export interface VersionsSection {
  readonly functions: readonly FunctionVersion[];
  readonly aliases: readonly AliasTraffic[];
  readonly triggers: readonly TriggerChange[];
}

const hexSha = (b64: unknown): string | undefined => (typeof b64 === 'string' && b64 !== '' ? Buffer.from(b64, 'base64').toString('hex') : undefined);
export const shortSha = (hex: string): string => `${hex.slice(0, 12)}…`;

/** Attributes that are the code, or the consequence of publishing, not configuration. */
const NOT_CONFIGURATION = new Set([
  'source_code_hash', 'filename', 's3_bucket', 's3_key', 's3_object_version', 'image_uri', 'code_sha256', 'source_code_size',
  'version', 'qualified_arn', 'qualified_invoke_arn', 'last_modified', 'tags', 'tags_all', 'publish',
]);
/** Changing only these does not publish a version. */
const NO_VERSION = new Set(['tags', 'tags_all', 'timeouts', 'skip_destroy', 'replace_security_groups_on_destroy', 'replacement_security_group_ids']);

function environmentChanges(rc: ResourceChange): string[] {
  if (unknownAt(rc.change.after_unknown, ['environment', 0, 'variables'])) return ['environment (known after apply)'];
  const before = (valueAt(rc.change.before, ['environment', 0, 'variables']) ?? {}) as Record<string, unknown>;
  const after = (valueAt(rc.change.after, ['environment', 0, 'variables']) ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]).map((k) => `environment.${k}`);
}

function functionVersion(ctx: ReviewContext, rc: ResourceChange): FunctionVersion {
  const action = actionOf(rc.change.actions);
  const b = rc.change.before ?? {};
  const a = rc.change.after ?? {};
  const name = nameOf(rc);
  const versionBefore = typeof b.version === 'string' ? b.version : undefined;
  const publishFlag = (a.publish ?? b.publish) === true;
  const { changed, unknown } = changedAttributes(rc.change);
  const codeBefore = hexSha(b.source_code_hash ?? b.code_sha256);
  const codeAfterUnknown = unknownAt(rc.change.after_unknown, ['source_code_hash']);
  const codeAfter = codeAfterUnknown ? undefined : hexSha(a.source_code_hash);
  const codeChanged = codeAfterUnknown || (codeAfter !== undefined && codeAfter !== codeBefore) || ['filename', 's3_key', 's3_object_version', 'image_uri'].some((k) => changed.includes(k));
  const configuration = [...changed, ...unknown]
    .filter((k) => !NOT_CONFIGURATION.has(k))
    .flatMap((k) => (k === 'environment' ? environmentChanges(rc) : [k]))
    .filter((k, i, all) => all.indexOf(k) === i);
  const versionUnknown = unknownAt(rc.change.after_unknown, ['version']);
  const publishes = publishFlag && (action === 'create' || action === 'replace' || (action === 'update' && (versionUnknown || (typeof a.version === 'string' && a.version !== versionBefore))));
  const next = action === 'create' || action === 'replace' ? '1' : versionBefore && /^\d+$/.test(versionBefore) ? String(Number(versionBefore) + 1) : undefined;
  const versionAfter = publishes ? (typeof a.version === 'string' ? a.version : next) : versionBefore;
  const fn = name ? `\`${name}\`` : 'the function';
  const shaText = codeChanged ? `code changed: sha256 ${codeBefore ? shortSha(codeBefore) : '?'} → ${codeAfter ? shortSha(codeAfter) : '(known after apply)'}` : undefined;
  const configText = configuration.length ? configuration.join(', ') : undefined;
  let summary: string;
  if (action === 'create') summary = `creates ${fn}${publishFlag ? ' and publishes version 1' : ' (no published versions: publish is off)'}`;
  else if (action === 'delete') summary = `deletes ${fn} with every published version${versionBefore ? ` (newest: ${versionBefore})` : ''}`;
  else if (action === 'replace') summary = `replaces ${fn}: a new function whose versions start again at 1`;
  else if (publishes) {
    const why = shaText && configText ? `${shaText}; configuration: ${configText}` : shaText ? shaText : `configuration only: ${configText ?? 'see the plan'}`;
    summary = `publishes version ${versionAfter ?? 'N+1'} of ${fn} (${why})`;
  } else if (action === 'update') {
    const only = [...changed, ...unknown].filter((k) => NO_VERSION.has(k));
    summary = `updates ${fn} without a new version${only.length ? ` (${only.join(', ')} only)` : configText ? ` (${configText})` : ''}`;
  } else summary = `${fn}: no change`;
  return { address: rc.address, instance: ctx.instances.of(rc)?.id, name, action, versionBefore, publishes, versionAfter, code: codeChanged ? { before: codeBefore, after: codeAfter } : undefined, configuration, summary };
}

/** The function resource an alias refers to (same module), from the configuration, else the only function in the module. */
function aliasFunction(ctx: ReviewContext, rc: ResourceChange): ResourceChange | undefined {
  const refs = expressionOf(ctx.plan, rc, 'function_version')?.references ?? expressionOf(ctx.plan, rc, 'function_name')?.references ?? [];
  for (const ref of refs) {
    const m = /^aws_lambda_function\.([^.[\]]+)/.exec(ref);
    if (m) {
      const fn = sibling(ctx, rc, 'managed', 'aws_lambda_function', m[1]!);
      if (fn) return fn;
    }
  }
  const same = ctx.changes.filter((o) => o.type === 'aws_lambda_function' && (o.module_address ?? '') === (rc.module_address ?? ''));
  return same.length === 1 ? same[0] : undefined;
}

const weightsOf = (values: unknown): Record<string, number> => (valueAt(values, ['routing_config', 0, 'additional_version_weights']) ?? {}) as Record<string, number>;
const percent = (w: number): string => `${Math.round(w * 1000) / 10}%`;
const weightsText = (w: Readonly<Record<string, number>>): string =>
  Object.entries(w)
    .map(([v, x]) => `${percent(x)} to version ${v}`)
    .join(', ');

function aliasTraffic(ctx: ReviewContext, rc: ResourceChange, functions: readonly FunctionVersion[]): AliasTraffic {
  const action = actionOf(rc.change.actions);
  const b = rc.change.before ?? {};
  const a = rc.change.after ?? {};
  const name = nameOf(rc);
  const fnChange = aliasFunction(ctx, rc);
  const fn = fnChange ? functions.find((f) => f.address === fnChange.address) : undefined;
  const expression = expressionOf(ctx.plan, rc, 'function_version');
  const afterUnknown = unknownAt(rc.change.after_unknown, ['function_version']);
  const afterKnown = afterUnknown ? undefined : (a.function_version as string | undefined);

  // Pinned: a literal version, or a variable in the expression that is set (coalesce(var.pinned, function.version)).
  let mode: AliasTraffic['mode'] = 'unknown';
  let pinned: string | undefined;
  const refs = expression?.references ?? [];
  if (isLiteral(expression)) {
    mode = 'pinned';
    pinned = String(expression!.constant_value);
  } else if (refs.some((r) => /^aws_lambda_function\.[^.]+\.version$/.test(r))) {
    const set = refs
      .filter((r) => r.startsWith('var.'))
      .map((r) => variableValue(ctx.plan, rc.module_address, r.slice(4)))
      .find((v) => typeof v === 'string' && v !== '');
    if (set !== undefined) [mode, pinned] = ['pinned', set as string];
    else mode = 'follows-newest';
  }
  if (mode === 'pinned' && afterKnown !== undefined && afterKnown !== pinned) pinned = afterKnown;

  const versionBefore = b.function_version as string | undefined;
  const versionAfter = afterKnown ?? (mode === 'pinned' ? pinned : mode === 'follows-newest' ? fn?.versionAfter : undefined);

  const canaryBefore = weightsOf(b);
  let canaryAfter: AliasTraffic['canaryAfter'];
  if (unknownAt(rc.change.after_unknown, ['routing_config'])) {
    // The weights name a version known only after apply (the one this plan publishes); the module's inputs say the rest.
    const weight = variableValue(ctx.plan, rc.module_address, 'canary_weight');
    const version = variableValue(ctx.plan, rc.module_address, 'canary_version');
    canaryAfter = {
      version: typeof version === 'string' ? version : fn?.publishes ? fn.versionAfter : undefined,
      weight: typeof weight === 'number' ? weight : undefined,
    };
  } else if (Object.keys(weightsOf(a)).length) {
    canaryAfter = { weights: weightsOf(a) };
  }

  const alias = name ? `\`${name}\`` : 'the alias';
  const target = (v: string | undefined): string => (v === undefined ? 'a version known after apply' : `version ${v}`);
  const parts: string[] = [];
  if (action === 'create') parts.push(`${alias} is created on ${target(versionAfter)}${mode === 'follows-newest' ? ' and follows the newest version' : mode === 'pinned' ? ' (pinned)' : ''}`);
  else if (action === 'delete') parts.push(`${alias} is deleted: nothing invokes the function through it any more`);
  else if (mode === 'follows-newest') {
    parts.push(
      versionBefore !== versionAfter
        ? `${alias} follows the newest version: ${versionBefore ?? '?'} → ${versionAfter ?? '(known after apply)'}${fn?.publishes ? ' (published by this apply)' : ''}`
        : `${alias} follows the newest version, stays on ${versionAfter ?? versionBefore}`,
    );
  } else if (mode === 'pinned') {
    parts.push(versionBefore !== pinned ? `${alias} pinned to ${pinned} (was ${versionBefore ?? '?'})` : `${alias} pinned to ${pinned}`);
  } else {
    parts.push(`${alias}: function_version ${versionBefore ?? '?'} → ${versionAfter ?? '(known after apply)'}`);
  }
  if (canaryAfter?.weights) parts.push(`canary ${weightsText(canaryAfter.weights)}`);
  else if (canaryAfter) {
    parts.push(
      `canary ${canaryAfter.weight !== undefined ? percent(canaryAfter.weight) : '(weight known after apply)'} to ${canaryAfter.version ? `version ${canaryAfter.version}` : 'a version known after apply'}${fn?.publishes && canaryAfter.version === fn.versionAfter ? ' (published by this apply)' : ''}`,
    );
  }
  if (Object.keys(canaryBefore).length && !canaryAfter) parts.push(`canary removed (was ${weightsText(canaryBefore)})`);
  if (mode === 'pinned' && fn?.publishes && fn.versionAfter !== pinned && !canaryAfter) parts.push(`the new version ${fn.versionAfter ?? ''} gets no traffic`.replace('  ', ' '));
  return { address: rc.address, instance: ctx.instances.of(rc)?.id, name, action, mode, versionBefore, versionAfter, canaryBefore, canaryAfter, summary: parts.join('; ') };
}

/** `arn:aws:lambda:r:a:function:orders-flatten:live` -> `orders-flatten:live`. */
function functionTarget(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /:function:(.+)$/.exec(value);
  return m ? m[1] : value;
}

/** The alias a trigger's function_name refers to in the configuration. */
function triggerAlias(ctx: ReviewContext, rc: ResourceChange): ResourceChange | undefined {
  const ref = (expressionOf(ctx.plan, rc, 'function_name')?.references ?? []).find((r) => r.startsWith('aws_lambda_alias.'));
  return ref ? sibling(ctx, rc, 'managed', 'aws_lambda_alias', ref.split('.')[1]!) : undefined;
}

function triggerChange(ctx: ReviewContext, rc: ResourceChange): TriggerChange {
  const action = actionOf(rc.change.actions);
  const b = rc.change.before ?? {};
  const a = rc.change.after ?? {};
  let target = functionTarget(a.function_name ?? b.function_name);
  if (action === 'no-op') {
    // Unchanged: what it invokes decides where the new version's traffic comes from. The configuration
    // says it better than the state (which holds whatever the API reported).
    const alias = triggerAlias(ctx, rc);
    const on = alias ? `alias \`${nameOf(alias) ?? '?'}\`` : target ? `\`${target}\`` : 'its function';
    return { address: rc.address, instance: ctx.instances.of(rc)?.id, action, target: on, interrupts: false, summary: `the stream trigger is unchanged and invokes ${on}${alias ? ', so stream traffic goes where the alias goes' : ''}` };
  }
  if (unknownAt(rc.change.after_unknown, ['function_name'])) {
    const alias = triggerAlias(ctx, rc);
    target = alias ? `alias \`${nameOf(alias) ?? '?'}\` (ARN known after apply)` : undefined;
  } else if (target) target = `\`${target}\``;
  const start = a.starting_position ?? b.starting_position;
  const on = target ? ` on ${target}` : '';
  let summary: string;
  let interrupts = false;
  if (action === 'create') summary = `the stream trigger is created${on}, reading from ${start ?? 'its starting position'}${a.enabled === false ? ' (paused: enabled = false)' : ''}`;
  else if (action === 'delete') {
    summary = `the stream trigger is deleted: nothing reads the stream any more${b.event_source_arn ? ` (${b.event_source_arn})` : ''}`;
    interrupts = true;
  } else if (action === 'replace') {
    const forced = (rc.change.replace_paths ?? []).map((p) => `\`${p.join('.')}\``).join(', ');
    summary = `the stream trigger is replaced${forced ? ` (forced by ${forced})` : ''}: the old one is deleted first, and the new one${on} starts reading at ${start ?? 'its starting position'}${start === 'TRIM_HORIZON' ? ' (the oldest record still in the stream)' : ''}`;
    interrupts = true;
  } else {
    const { changed, unknown } = changedAttributes(rc.change);
    const scalar = (k: string): boolean => typeof b[k] !== 'object' && typeof a[k] !== 'object' && !sensitiveAt(rc.change, 'before', [k]) && !sensitiveAt(rc.change, 'after', [k]);
    const list = [...changed.map((k) => (scalar(k) ? `${k} ${JSON.stringify(b[k])} → ${JSON.stringify(a[k])}` : k)), ...unknown.map((k) => `${k} (known after apply)`)];
    summary = `the stream trigger${on} changes: ${list.join(', ') || 'see the plan'}`;
    if (b.enabled === true && a.enabled === false) {
      summary += ' — it is paused: records wait in the stream (24 h retention)';
      interrupts = true;
    }
  }
  return { address: rc.address, instance: ctx.instances.of(rc)?.id, action, target, interrupts, summary };
}

export function versionsSection(ctx: ReviewContext): VersionsSection {
  const changed = ctx.changes.filter((rc) => rc.mode === 'managed' && actionOf(rc.change.actions) !== 'no-op');
  const functions = ctx.changes.filter((rc) => rc.mode === 'managed' && kindOf(rc).role === 'function').map((rc) => functionVersion(ctx, rc));
  const aliases = changed.filter((rc) => kindOf(rc).role === 'alias').map((rc) => aliasTraffic(ctx, rc, functions));
  // Unchanged triggers too, where the traffic they carry moves: in a module whose function or alias changes.
  const moving = new Set([...functions.filter((f) => f.action !== 'no-op'), ...aliases].map((x) => ctx.changes.find((rc) => rc.address === x.address)?.module_address ?? ''));
  const triggers = ctx.changes
    .filter((rc) => rc.mode === 'managed' && kindOf(rc).role === 'trigger')
    .filter((rc) => actionOf(rc.change.actions) !== 'no-op' || moving.has(rc.module_address ?? ''))
    .map((rc) => triggerChange(ctx, rc));
  return { functions: functions.filter((f) => f.action !== 'no-op'), aliases, triggers };
}
