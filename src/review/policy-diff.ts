/**
 * IAM policy documents (role policies, trust policies, bucket policies, ...)
 * compared statement by statement, so the review can say which actions and
 * resources a change grants or takes away, and flag what widens access.
 */

export const KNOWN_AFTER_APPLY = '(known after apply)';

export interface Statement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  /** `Service:lambda.amazonaws.com`, `AWS:arn:…`, `*`. */
  readonly principals: readonly string[];
  readonly notPrincipals: readonly string[];
  /** Each condition as `Operator key = v1, v2`. */
  readonly conditions: readonly string[];
}

export interface SetChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export interface StatementChange {
  readonly kind: 'added' | 'removed' | 'changed';
  /** The Sid, or a description when it has none. */
  readonly label: string;
  readonly effect: string;
  /** The whole statement, for added and removed ones (the new one for changed). */
  readonly statement: Statement;
  readonly actions?: SetChange;
  readonly resources?: SetChange;
  readonly principals?: SetChange;
  readonly conditions?: SetChange;
  readonly notElements?: SetChange;
  readonly effectBefore?: string;
  /** Why this change widens access; empty when it does not. */
  readonly widens: readonly string[];
}

const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const sorted = (v: readonly string[]): string[] => [...new Set(v)].sort();

function principalList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v === '*' ? '*' : `AWS:${v}`];
  return Object.entries(v as Record<string, unknown>).flatMap(([type, ids]) => list(ids).map((id) => (id === '*' && type === 'AWS' ? '*' : `${type}:${id}`)));
}

function conditionList(v: unknown): string[] {
  if (!v || typeof v !== 'object') return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([op, keys]) =>
    Object.entries((keys ?? {}) as Record<string, unknown>).map(([key, values]) => `${op} ${key} = ${list(values).join(', ')}`),
  );
}

/** The statements of a policy document given as JSON text (as the plan holds `policy` attributes). */
export function parsePolicy(text: unknown): Statement[] | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const raw = (doc as { Statement?: unknown })?.Statement;
  const statements = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Record<string, unknown>[];
  return statements.map((s) => ({
    sid: typeof s.Sid === 'string' && s.Sid !== '' ? s.Sid : undefined,
    effect: String(s.Effect ?? 'Allow'),
    actions: sorted(list(s.Action)),
    notActions: sorted(list(s.NotAction)),
    resources: sorted(list(s.Resource)),
    notResources: sorted(list(s.NotResource)),
    principals: sorted(principalList(s.Principal)),
    notPrincipals: sorted(principalList(s.NotPrincipal)),
    conditions: sorted(conditionList(s.Condition)),
  }));
}

type Unknown = boolean | Record<string, unknown> | unknown[] | undefined;
const at = (u: Unknown, key: string | number): Unknown => (u && typeof u === 'object' ? ((u as Record<string, unknown>)[key] as Unknown) : undefined);
const anyUnknown = (u: Unknown): boolean => u === true || (Array.isArray(u) ? u.some((x) => anyUnknown(x as Unknown)) : !!u && typeof u === 'object' && Object.values(u).some((x) => anyUnknown(x as Unknown)));

/**
 * The statements of an `aws_iam_policy_document` data source's planned
 * `statement` blocks, where values not known yet (`unknown`, the plan's
 * after_unknown for the blocks) read as "(known after apply)". Used when
 * the policy built from it is itself known only after apply.
 */
export function statementsFromDocument(blocks: unknown, unknown: Unknown): Statement[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.map((b: Record<string, any>, i) => {
    const u = at(unknown, i);
    // Unknown elements of a set are null in the values and true in after_unknown.
    const values = (key: string): string[] => {
      const uk = at(u, key);
      if (uk === true) return [KNOWN_AFTER_APPLY];
      const raw: unknown[] = Array.isArray(b[key]) ? b[key] : b[key] === undefined || b[key] === null ? [] : [b[key]];
      return raw.map((v, k) => (anyUnknown(at(uk, k)) || v === null ? KNOWN_AFTER_APPLY : String(v)));
    };
    const principals = (key: string): string[] =>
      anyUnknown(at(u, key)) ? [KNOWN_AFTER_APPLY] : (b[key] ?? []).flatMap((p: { type: string; identifiers: string[] }) => list(p.identifiers).map((id) => (id === '*' && (p.type === 'AWS' || p.type === '*') ? '*' : `${p.type}:${id}`)));
    return {
      sid: typeof b.sid === 'string' && b.sid !== '' ? b.sid : undefined,
      effect: String(b.effect ?? 'Allow'),
      actions: sorted(values('actions')),
      notActions: sorted(values('not_actions')),
      resources: sorted(values('resources')),
      notResources: sorted(values('not_resources')),
      principals: sorted(principals('principals')),
      notPrincipals: sorted(principals('not_principals')),
      conditions: anyUnknown(at(u, 'condition'))
        ? [KNOWN_AFTER_APPLY]
        : sorted((b.condition ?? []).map((c: { test: string; variable: string; values: string[] }) => `${c.test} ${c.variable} = ${list(c.values).join(', ')}`)),
    };
  });
}

function setChange(before: readonly string[], after: readonly string[]): SetChange | undefined {
  const added = after.filter((x) => !before.includes(x));
  const removed = before.filter((x) => !after.includes(x));
  return added.length || removed.length ? { added, removed } : undefined;
}

export function statementLabel(s: Statement): string {
  return s.sid ?? `${s.effect} ${[...s.actions, ...s.notActions.map((a) => `not ${a}`)].slice(0, 3).join(', ')}${s.actions.length > 3 ? ', …' : ''}`;
}

const wildcard = (xs: readonly string[]): string[] => xs.filter((x) => x === '*' || /(^|:)\*$/.test(x));
const known = (xs: readonly string[]): string[] => xs.filter((x) => x !== KNOWN_AFTER_APPLY);

function widensAdded(s: Statement): string[] {
  if (s.effect !== 'Allow') return [];
  const reasons = [`grants ${known(s.actions).join(', ') || 'actions'}${s.notActions.length ? ` and everything but ${s.notActions.join(', ')}` : ''}`];
  const stars = wildcard([...s.actions, ...s.resources, ...s.principals]);
  if (stars.length) reasons.push(`wildcard ${stars.map((x) => `\`${x}\``).join(', ')}`);
  return reasons;
}

function widensChanged(before: Statement, after: Statement, c: Omit<StatementChange, 'widens' | 'kind' | 'label' | 'effect' | 'statement'>): string[] {
  const reasons: string[] = [];
  if (before.effect === 'Deny' && after.effect === 'Allow') reasons.push('a Deny becomes an Allow');
  if (after.effect === 'Allow') {
    if (known(c.actions?.added ?? []).length) reasons.push(`new actions ${known(c.actions!.added).join(', ')}`);
    if (known(c.resources?.added ?? []).length) reasons.push(`new resources ${known(c.resources!.added).join(', ')}`);
    if (known(c.principals?.added ?? []).length) reasons.push(`new principals ${known(c.principals!.added).join(', ')}`);
    if (known(c.conditions?.removed ?? []).length) reasons.push(`condition removed: ${known(c.conditions!.removed).join('; ')}`);
    const stars = wildcard([...(c.actions?.added ?? []), ...(c.resources?.added ?? []), ...(c.principals?.added ?? [])]);
    if (stars.length) reasons.push(`wildcard ${stars.map((x) => `\`${x}\``).join(', ')}`);
  } else {
    // A Deny that covers less, or holds in fewer cases, allows more.
    if (known(c.actions?.removed ?? []).length) reasons.push(`the Deny no longer covers ${known(c.actions!.removed).join(', ')}`);
    if (known(c.resources?.removed ?? []).length) reasons.push(`the Deny no longer covers ${known(c.resources!.removed).join(', ')}`);
    if (known(c.conditions?.added ?? []).length) reasons.push(`the Deny holds only when ${known(c.conditions!.added).join('; ')}`);
  }
  if (c.notElements) reasons.push('NotAction/NotResource/NotPrincipal changed: review by hand');
  return reasons;
}

/**
 * The statement changes from `before` to `after` (either may be empty: a
 * policy created or deleted). Statements pair up by Sid, then by effect
 * and actions; what is left is added or removed.
 */
export function diffPolicies(before: readonly Statement[], after: readonly Statement[]): StatementChange[] {
  const pairs: [Statement, Statement][] = [];
  const left = [...before];
  const right = [...after];
  const pairBy = (key: (s: Statement) => string | undefined): void => {
    for (const a of [...left]) {
      const k = key(a);
      if (k === undefined) continue;
      const bIndex = right.findIndex((b) => key(b) === k);
      if (bIndex < 0) continue;
      pairs.push([a, right[bIndex]!]);
      right.splice(bIndex, 1);
      left.splice(left.indexOf(a), 1);
    }
  };
  pairBy((s) => s.sid);
  pairBy((s) => `${s.effect}|${s.actions.join(',')}|${s.notActions.join(',')}`);

  const changes: StatementChange[] = [];
  for (const s of left) {
    changes.push({ kind: 'removed', label: statementLabel(s), effect: s.effect, statement: s, widens: s.effect === 'Deny' ? ['a Deny statement is removed'] : [] });
  }
  for (const [a, b] of pairs) {
    const notElements = setChange(
      [...a.notActions.map((x) => `NotAction ${x}`), ...a.notResources.map((x) => `NotResource ${x}`), ...a.notPrincipals.map((x) => `NotPrincipal ${x}`)],
      [...b.notActions.map((x) => `NotAction ${x}`), ...b.notResources.map((x) => `NotResource ${x}`), ...b.notPrincipals.map((x) => `NotPrincipal ${x}`)],
    );
    const c = {
      actions: setChange(a.actions, b.actions),
      resources: setChange(a.resources, b.resources),
      principals: setChange(a.principals, b.principals),
      conditions: setChange(a.conditions, b.conditions),
      notElements,
      effectBefore: a.effect !== b.effect ? a.effect : undefined,
    };
    if (!c.actions && !c.resources && !c.principals && !c.conditions && !c.notElements && !c.effectBefore) continue;
    changes.push({ kind: 'changed', label: statementLabel(b), effect: b.effect, statement: b, ...c, widens: widensChanged(a, b, c) });
  }
  for (const s of right) changes.push({ kind: 'added', label: statementLabel(s), effect: s.effect, statement: s, widens: widensAdded(s) });
  return changes;
}
