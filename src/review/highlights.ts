import type { Counts } from './review.ts';
import type { AccessChange } from './sections/access.ts';
import type { CheckFinding } from './sections/checks.ts';
import type { DriftDeleted, ProtectionOff } from './sections/drift.ts';
import type { Risk } from './sections/risk.ts';
import type { AliasTraffic, FunctionVersion, TriggerChange } from './sections/versions.ts';
import type { TableColumnsChange, ViewChange } from './sections/views.ts';

/**
 * The headline's line per pipeline instance: the few things a reviewer must
 * know, most serious first, each a few words (the sections say the rest).
 */

export interface InstanceFindings {
  readonly risks: readonly Risk[];
  /** Stateful resources deleted outside Terraform, and protections turned off there. */
  readonly deleted: readonly DriftDeleted[];
  readonly protections: readonly ProtectionOff[];
  readonly checks: readonly CheckFinding[];
  readonly functions: readonly FunctionVersion[];
  readonly aliases: readonly AliasTraffic[];
  readonly triggers: readonly TriggerChange[];
  readonly views: readonly ViewChange[];
  readonly tables: readonly TableColumnsChange[];
  readonly access: readonly AccessChange[];
}

const only = (counts: Counts, action: string): boolean =>
  counts[action]! > 0 && Object.entries(counts).every(([a, n]) => n === 0 || a === action || a === 'read' || a === 'no-op');

function riskText(all: readonly Risk[], prefix: string): string[] {
  const history = all.filter((r) => r.action === 'delete-history').map((r) => `${prefix}deletes ${r.what.replace(/ \(.*\)$/, '')}`);
  const risks = all.filter((r) => r.action !== 'delete-history');
  if (risks.length === 0) return history;
  return [...destroyText(risks, prefix), ...history];
}

function destroyText(risks: readonly Risk[], prefix: string): string[] {
  if (risks.length <= 2) return risks.map((r) => `${prefix}${r.action === 'replace' ? 'replaces' : 'destroys'} ${r.what}`);
  const kinds = [...new Set(risks.map((r) => r.what.replace(/ `.*$/, '')))];
  const verb = risks.every((r) => r.action === 'delete') ? 'destroys' : risks.every((r) => r.action === 'replace') ? 'replaces' : 'destroys or replaces';
  return [`${prefix}${verb} ${risks.length} stateful resources (${kinds.join(', ')})`];
}

function functionText(f: FunctionVersion): string {
  if (f.action === 'create') return 'creates the function';
  if (f.action === 'delete') return 'deletes the function';
  if (f.action === 'replace') return 'replaces the function';
  return f.publishes ? `publishes version ${f.versionAfter ?? 'N+1'}` : 'updates the function without a new version';
}

function aliasText(a: AliasTraffic): string {
  const name = `alias \`${a.name ?? '?'}\``;
  const canary = a.canaryAfter ? ' with a canary' : '';
  if (a.mode === 'pinned') return `${name} pinned to ${a.versionAfter ?? '?'}${canary}`;
  if (a.versionBefore !== a.versionAfter) return `${name} ${a.versionBefore ?? '?'} → ${a.versionAfter ?? '?'}${canary}`;
  return `${name} changes${canary}`;
}

/** What happened outside Terraform and what the configuration's own checks say: before anything the plan does. */
function outsideText(f: InstanceFindings): string[] {
  const checks = f.checks.filter((c) => c.status !== 'unknown');
  return [
    ...f.deleted.map((d) => `${d.allowed ? 'allowed: ' : '⛔ '}${d.what} deleted outside Terraform`),
    ...[...new Set(f.protections.map((p) => p.protection))].map((p) => `⚠ ${p} changed outside Terraform`),
    ...(checks.length ? [`⛔ ${checks.length === 1 ? `${checks[0]!.what} \`${checks[0]!.address}\` failed` : `${checks.length} checks failed`}`] : []),
  ];
}

export function instanceHighlights(counts: Counts, f: InstanceFindings): string[] {
  const blocked = f.risks.filter((r) => !r.allowed);
  const allowed = f.risks.filter((r) => r.allowed);
  const outside = outsideText(f);
  if (only(counts, 'create') && outside.length === 0) return ['a new pipeline', ...f.functions.filter((x) => x.publishes).map(() => 'publishes version 1')];
  if (only(counts, 'delete')) return [...outside, ...riskText(blocked, '⛔ '), ...riskText(allowed, 'allowed: '), 'the whole pipeline is destroyed'];
  const widens = f.access.some((a) => a.widens.length > 0 && a.action !== 'create');
  const changesAccess = f.access.some((a) => a.action === 'update' || a.action === 'replace');
  return [
    ...outside,
    ...riskText(blocked, '⛔ '),
    ...riskText(allowed, 'allowed: '),
    ...f.triggers.filter((t) => t.interrupts).map((t) => (t.action === 'delete' ? 'deletes the stream trigger' : t.action === 'replace' ? 'replaces the stream trigger' : 'pauses the stream trigger')),
    ...f.functions.map(functionText),
    ...f.aliases.filter((a) => a.action === 'update').map(aliasText),
    ...f.views.filter((v) => v.action !== 'create').map((v) => `view \`${v.name ?? '?'}\` ${v.action === 'delete' ? 'deleted' : 'changes'}`),
    ...f.tables.map((t) => `table \`${t.name ?? '?'}\` columns change`),
    ...(widens ? ['⚠ widens access'] : changesAccess ? ['access changes'] : []),
  ];
}
