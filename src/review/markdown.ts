import type { Risk } from './sections/risk.ts';
import type { AccessChange } from './sections/access.ts';
import type { CheckFinding } from './sections/checks.ts';
import type { DriftDeleted, ProtectionOff } from './sections/drift.ts';
import type { StatementChange, Statement } from './policy-diff.ts';
import type { Counts, Review } from './review.ts';

/**
 * The review as Markdown for a pull request comment (GitHub renders it:
 * alerts, <details>, diff fences). Data at risk comes first and loud;
 * everything else is compact. A comment holds at most 65,536 characters,
 * so long lists and diffs are cut, with a note, until it fits.
 */

/** Identifies the review's comment, so CI updates it instead of adding another. */
export const COMMENT_MARKER = '<!-- ddb-flatten review-plan -->';
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface MarkdownOptions {
  /** Stay within this many characters (default: GitHub's comment limit, less a margin for what CI adds). */
  readonly maxChars?: number;
  /** What was planned, e.g. "stack `ddb-flatten` against a local AWS"; shown under the heading. */
  readonly target?: string;
}

interface Limits {
  /** Items of any one list. */
  readonly items: number;
  /** Lines of any one diff. */
  readonly diffLines: number;
  /** Show the SQL of new views and the statements of new policies. */
  readonly details: boolean;
}

const LEVELS: readonly Limits[] = [
  { items: Infinity, diffLines: Infinity, details: true },
  { items: 100, diffLines: 200, details: false },
  { items: 25, diffLines: 60, details: false },
  { items: 5, diffLines: 20, details: false },
];

const CUT_NOTE = 'not shown: a PR comment holds at most 65,536 characters; `--format json` has everything';

/** Inline code that survives backticks in the value. */
export function code(text: string): string {
  const s = String(text);
  if (!s.includes('`')) return `\`${s}\``;
  return `\`\` ${s} \`\``;
}

const value = (v: unknown): string => code(v === undefined ? 'null' : JSON.stringify(v));
const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function clip<T>(xs: readonly T[], n: number): { shown: readonly T[]; more: string | undefined } {
  if (xs.length <= n) return { shown: xs, more: undefined };
  return { shown: xs.slice(0, n), more: `… and ${xs.length - n} more (${CUT_NOTE})` };
}

function countsText(c: Counts, moves: number): string {
  const parts = [`${c.create} to create`, `${c.update} to update`, `${c.replace} to replace`, `${c.delete} to destroy`];
  // `removed` blocks with destroy = false: out of Terraform's hands, left in AWS.
  if (c.forget) parts.push(`${c.forget} to forget (kept in AWS, dropped from the state)`);
  // Moves are counted apart, as Terraform does: a moved resource may also be updated, or nothing else.
  if (moves) parts.push(`${moves} to move`);
  return parts.join(' · ');
}

function changeCounts(c: Counts): string {
  const parts = Object.entries(c)
    .filter(([a, n]) => n > 0 && a !== 'no-op' && a !== 'read')
    .map(([a, n]) => `${n} ${a === 'delete' ? 'destroy' : a}`);
  return parts.length ? parts.join(', ') : 'no changes';
}

function fence(text: string, lang: string): string[] {
  const ticks = /^```/m.test(text) ? '~~~~' : '```';
  return [`${ticks}${lang}`, text, ticks];
}

function clipLines(text: string, n: number): string {
  const lines = text.split('\n');
  return lines.length <= n ? text : [...lines.slice(0, n), `… ${lines.length - n} more lines (${CUT_NOTE})`].join('\n');
}

/* ---- sections ---- */

const HEADINGS: Readonly<Record<Review['verdict'], string>> = {
  'could-not-finish': '⛔ {Plan review}: Terraform could not finish this plan',
  'data-at-risk': '⛔ {Plan review}: data at risk',
  'checks-failed': '⛔ {Plan review}: checks failed',
  'data-at-risk-allowed': '⚠️ {Plan review}: data at risk, allowed',
  'no-data-at-risk': '✅ {Plan review}: no data at risk',
};

/** A plan Terraform finished, but only in part (-target, deferred changes): never "no data at risk" without saying so. */
const partial = (r: Review): boolean => !r.plan.errored && r.plan.complete === false;

function heading(r: Review): string {
  const name = r.plan.refreshOnly ? 'Refresh-only plan review' : partial(r) ? 'Partial plan review' : 'Plan review';
  const text = HEADINGS[r.verdict].replace('{Plan review}', name);
  return `## ${partial(r) && r.verdict === 'no-data-at-risk' ? `⚠️ ${name}: no data at risk in the part planned` : text}`;
}

/** Blocks of lines, one blank line between them (and never two). */
function blocks(...parts: readonly (readonly string[])[]): string[] {
  return parts.filter((p) => p.length > 0).flatMap((p, i) => (i === 0 ? [...p] : ['', ...p]));
}

function headline(r: Review, options: MarkdownOptions, l: Limits): string[] {
  const read = r.counts.read ? ` · ${plural(r.counts.read, 'data source')} read during apply` : '';
  // What someone changed, not what a read merely gives back in another form.
  const driftCount = r.drift.deleted.reduce((n, d) => n + 1 + d.goneWithIt.length, 0) + new Set(r.drift.protections.map((p) => p.address)).size + r.drift.other.filter((o) => o.action !== 'update' || o.changed.length).length;
  const counts = r.plan.refreshOnly
    ? `**${plural(driftCount, 'resource')} changed outside Terraform** (a refresh-only plan: nothing to create, update or destroy)`
    : `**${countsText(r.counts, r.moves)}**${read}${r.plan.errored ? ' (only what was planned before the error)' : ''}`;
  const { shown, more } = clip(r.instances, l.items);
  const lines = shown.map((i) => `- ${i.label}: ${changeCounts(i.counts)}${i.highlights.length ? ` — ${i.highlights.join('; ')}` : ''}`);
  if (more) lines.push(`- ${more}`);
  if (changeCounts(r.otherResources) !== 'no changes') lines.push(`- other resources (not part of a pipeline): ${changeCounts(r.otherResources)}`);
  const notes: string[] = [];
  if (r.plan.refreshOnly) {
    notes.push('> [!NOTE]', '> A refresh-only plan changes nothing in AWS: applying it writes into the state what Terraform found there. What changed outside Terraform is below; the next plan repairs it, unless the configuration is changed to match.');
  } else if (partial(r)) {
    const deferred = r.plan.deferred.length ? ` (${plural(r.plan.deferred.length, 'change')} deferred until values are known)` : '';
    notes.push('> [!WARNING]', `> Terraform planned only part of the configuration (\`-target\`, or deferred changes${deferred}): this review covers what this plan does, and another plan is needed after the apply.`);
  }
  const none = r.plan.errored || r.dataAtRisk.length || r.drift.deleted.length
    ? []
    : [r.plan.refreshOnly ? 'No stateful resource was deleted outside Terraform.' : 'No stateful resource (table, lake bucket, Glue database or table, queue, KMS key, log group) is destroyed or replaced.'];
  return [COMMENT_MARKER, ...blocks([heading(r)], options.target ? [`Plan of ${options.target}.`] : [], [counts], lines, notes, none)];
}

/** Terraform stopped part way: what the review cannot know, and where the errors are. */
function couldNotFinishSection(r: Review, l: Limits): string[] {
  if (!r.plan.errored) return [];
  const failed = r.checks.findings.filter((c) => c.status !== 'unknown').length;
  const out = [
    '',
    '### ⛔ Terraform could not finish this plan',
    '',
    '> [!CAUTION]',
    '> Terraform stopped with an error while planning (`errored`): this plan holds only the changes planned before the error, and it cannot be applied. The review cannot know what the missing changes would do, so it fails (exit 3) whatever else it finds. Fix the error and plan again.',
    '',
    failed
      ? `- **Where**: ${plural(failed, 'condition')} failed, under Checks below (with their messages); any other error (a provider's, an invalid argument) is only in the output of \`terraform plan\`.`
      : "- **Where**: the plan's JSON does not say: the error (a provider's, an invalid argument or function call) is in the output of `terraform plan`.",
  ];
  if (r.plan.notPlanned.length) {
    const { shown, more } = clip(r.plan.notPlanned, l.items);
    out.push(`- <details><summary>${summaryHtml(`**Not planned**: ${plural(r.plan.notPlanned.length, 'resource')} of the configuration ${r.plan.notPlanned.length === 1 ? 'has' : 'have'} no planned change`)}</summary>`, '', ...shown.map((a) => `  - ${code(a)}`), ...(more ? [`  - ${more}`] : []), '', '  </details>');
  }
  return out;
}

function riskBlock(x: Risk): string[] {
  const verb = x.action === 'replace' ? 'Replaces' : x.action === 'delete-history' ? 'Deletes' : 'Destroys';
  const out = ['', `#### ${x.allowed ? 'Allowed' : '⛔'} ${verb} ${x.what}`, '', code(x.address), ''];
  const by = x.action === 'delete-history' ? 'Set by' : 'Forced by';
  for (const f of x.forcedBy) out.push(`- **${by}** ${code(f.path)}${f.sensitive ? ' (sensitive value)' : `: ${value(f.before)} → ${f.afterUnknown ? '(known after apply)' : value(f.after)}`}`);
  out.push(`- **Why**: ${x.why}.`);
  out.push(`- **Lost**: ${x.loses.join('; ')}.`);
  for (const w of x.warnings) out.push(`- **⚠ ${w}**`);
  out.push(`- **Safer**: ${x.safer}${x.runbook ? ` See [${x.runbook.title}](${x.runbook.url}).` : ''}`);
  out.push(x.allowed ? '- Allowed with `--allow-replace`: it does not fail the review.' : `- **To accept it**: \`--allow-replace '${x.address}'\``);
  return out;
}

function deletedBlock(x: DriftDeleted): string[] {
  const out = ['', `#### ${x.allowed ? 'Allowed' : '⛔'} Deleted outside Terraform: ${x.what}`, '', code(x.address), ''];
  out.push(`- **Already lost**: ${x.lost.join('; ')}.`);
  out.push(`- **This plan creates in its place**: ${x.replacement.join('; ')}.`);
  if (x.goneWithIt.length) out.push(`- **Gone with it** (S3 deletes a bucket's configuration with the bucket): ${x.goneWithIt.join(', ')}.`);
  for (const w of x.warnings) out.push(`- **⚠ ${w}**`);
  out.push(`- **Before applying**: ${x.safer}${x.runbook ? ` See [${x.runbook.title}](${x.runbook.url}).` : ''}`);
  out.push(x.allowed ? '- Allowed with `--allow-replace`: it does not fail the review.' : `- **To accept it**: \`--allow-replace '${x.address}'\``);
  return out;
}

function protectionLine(p: ProtectionOff, refreshOnly: boolean): string {
  const repair = refreshOnly ? 'the next plan sets it again' : p.restoredByPlan ? 'this plan sets it again' : 'this plan does not set it again';
  return `- ⚠ ${p.what} (${code(p.address)}): **${p.protection}** ${p.change} — ${repair}.`;
}

function riskSection(r: Review, l: Limits): string[] {
  const { deleted, protections } = r.drift;
  if (!r.dataAtRisk.length && !deleted.length && !protections.length) return [];
  if (!r.dataAtRisk.length && !deleted.length) {
    const { shown, more } = clip(protections, l.items);
    return ['', '### ⚠️ Protections turned off outside Terraform', '', ...shown.map((p) => protectionLine(p, r.plan.refreshOnly)), ...(more ? [`- ${more}`] : [])];
  }
  const open = r.dataAtRisk.filter((x) => !x.allowed && x.action !== 'delete-history').length;
  const history = r.dataAtRisk.filter((x) => !x.allowed && x.action === 'delete-history').length;
  const gone = deleted.filter((x) => !x.allowed).length;
  const out = ['', open || gone || history ? '### ⛔ Data at risk' : '### Data at risk (allowed)', ''];
  if (open || gone || history) {
    const said = [
      gone ? `${plural(gone, 'stateful resource')} ${gone === 1 ? 'was' : 'were'} deleted outside Terraform: what ${gone === 1 ? 'it' : 'they'} held is already gone.` : '',
      open ? `Applying this plan destroys ${plural(open, 'stateful resource')} and what ${open === 1 ? 'it holds' : 'they hold'}.` : '',
      history ? `Applying this plan sets or shortens the history retention of ${plural(history, 'lake')}: the scheduled maintenance run then deletes ${history === 1 ? 'its' : 'their'} older history.` : '',
    ].filter(Boolean);
    out.push('> [!CAUTION]', `> ${said.join(' ')} The review fails (exit 3) unless each is named with \`--allow-replace ADDRESS\`.`);
  } else {
    out.push(`Every stateful resource this plan destroys, or that was deleted outside Terraform, and every history retention it sets or shortens, is allowed with \`--allow-replace\` (${plural(r.dataAtRisk.length + deleted.length, 'resource')}).`);
  }
  // What already happened first: it is true whatever the reviewer decides.
  const d = clip(deleted, l.items);
  for (const x of d.shown) out.push(...deletedBlock(x));
  if (d.more) out.push('', d.more);
  const { shown, more } = clip(r.dataAtRisk, l.items);
  for (const x of shown) out.push(...riskBlock(x));
  if (more) out.push('', more);
  if (protections.length) {
    const p = clip(protections, l.items);
    out.push('', '#### ⚠️ Protections turned off outside Terraform', '', ...p.shown.map((x) => protectionLine(x, r.plan.refreshOnly)), ...(p.more ? [`- ${p.more}`] : []));
  }
  return out;
}

function checkLine(c: CheckFinding): string {
  return `- ⛔ ${c.what} ${code(c.address)} ${c.status === 'fail' ? 'failed' : 'could not be evaluated (error)'}${c.messages.length ? `: ${c.messages.map((m) => `“${m}”`).join(' ')}` : ''}`;
}

/** Failed checks with their messages; the unknown ones (decided during the apply) in one line. */
function checksSection(r: Review, l: Limits): string[] {
  const failed = r.checks.findings.filter((c) => c.status !== 'unknown');
  const unknown = r.checks.findings.filter((c) => c.status === 'unknown');
  if (!failed.length && !unknown.length) return [];
  const out = ['', failed.length ? '### ⛔ Checks failed' : '### Checks', ''];
  if (failed.length) {
    out.push(
      `The configuration's own conditions (check blocks, variable validation, pre- and postconditions) say something is wrong; the review fails (exit 3) until they pass.${r.checks.passed ? ` ${plural(r.checks.passed, 'other check')} passed.` : ''}`,
      '',
    );
    const { shown, more } = clip(failed, l.items);
    out.push(...shown.map(checkLine), ...(more ? [`- ${more}`] : []));
  }
  if (unknown.length) {
    const { shown, more } = clip(unknown, l.items);
    // In a finished plan, unknown means "known during the apply"; in an errored or partial one, maybe only "not reached".
    const why = r.plan.errored ? 'Not evaluated before Terraform stopped' : partial(r) ? 'Not evaluated in this partial plan, or known only during the apply' : 'Decided only during the apply (their values are known then)';
    out.push(`- ❔ ${why}: ${shown.map((c) => `${code(c.address)} (${c.what})`).join(', ')}${more ? `, ${more}` : ''}.`);
  }
  return out;
}

/** Rows grouped by their pipeline instance, in the order of the instances. */
function byInstance<T extends { instance?: string }>(r: Review, xs: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const x of xs) {
    const key = x.instance ?? '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(x);
  }
  const order = [...r.instances.map((i) => i.id), ''];
  return [...groups.entries()].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
}

function instanceLabel(r: Review, id: string): string {
  return r.instances.find((i) => i.id === id)?.label ?? 'other resources (not part of a pipeline)';
}

function versionsSection(r: Review, l: Limits): string[] {
  const v = r.versions;
  const rows = [
    ...v.functions.map((f) => ({ instance: f.instance, text: `Function: ${f.summary}` })),
    ...v.aliases.map((a) => ({ instance: a.instance, text: `Alias: ${a.summary}` })),
    ...v.triggers.map((t) => ({ instance: t.instance, text: `${t.interrupts ? '⚠ ' : ''}Trigger: ${t.summary}` })),
  ];
  if (!rows.length) return [];
  const out = ['', '### Versions and traffic'];
  for (const [id, group] of byInstance(r, rows)) {
    out.push('', `**${instanceLabel(r, id)}**`, '');
    const { shown, more } = clip(group, l.items);
    for (const row of shown) out.push(`- ${row.text}`);
    if (more) out.push(`- ${more}`);
  }
  return out;
}

function viewsSection(r: Review, l: Limits): string[] {
  const { views, tables } = r.views;
  if (!views.length && !tables.length) return [];
  const out = ['', '### Views and columns'];
  const rows = [...views.map((x) => ({ ...x, kind: 'view' as const })), ...tables.map((x) => ({ ...x, kind: 'table' as const }))];
  for (const [id, group] of byInstance(r, rows)) {
    out.push('', `**${instanceLabel(r, id)}**`);
    const { shown, more } = clip(group, l.items);
    for (const x of shown) {
      out.push('', `- ${x.summary}`);
      if (x.kind === 'view' && x.diff) out.push('', ...fence(clipLines(x.diff, l.diffLines), 'diff'));
      if (x.kind === 'view' && x.sql && l.details) out.push('', `<details><summary>SQL of view <code>${summaryHtml(x.name ?? '')}</code></summary>`, '', ...fence(clipLines(x.sql, l.diffLines), 'sql'), '', '</details>');
    }
    if (more) out.push('', `- ${more}`);
  }
  return out;
}

function statementText(s: Statement): string {
  const parts = [s.effect];
  if (s.actions.length) parts.push(s.actions.map(code).join(', '));
  if (s.notActions.length) parts.push(`everything but ${s.notActions.map(code).join(', ')}`);
  if (s.resources.length) parts.push(`on ${s.resources.map(code).join(', ')}`);
  if (s.notResources.length) parts.push(`on everything but ${s.notResources.map(code).join(', ')}`);
  if (s.principals.length) parts.push(`for ${s.principals.map(code).join(', ')}`);
  if (s.conditions.length) parts.push(`when ${s.conditions.map(code).join(' and ')}`);
  return parts.join(' ');
}

function setText(label: string, c: { added: readonly string[]; removed: readonly string[] } | undefined): string | undefined {
  if (!c) return undefined;
  const parts = [...c.added.map((x) => `+ ${code(x)}`), ...c.removed.map((x) => `− ${code(x)}`)];
  return `${label} ${parts.join(', ')}`;
}

function statementChangeText(c: StatementChange): string {
  const flag = c.widens.length ? '⚠ ' : '';
  if (c.kind !== 'changed') return `${flag}**${c.kind}** ${code(c.label)}: ${statementText(c.statement)}${c.widens.length ? ` — ${c.widens.join('; ')}` : ''}`;
  const parts = [
    c.effectBefore ? `effect ${c.effectBefore} → ${c.effect}` : undefined,
    setText('actions', c.actions),
    setText('resources', c.resources),
    setText('principals', c.principals),
    setText('conditions', c.conditions),
    setText('Not* elements', c.notElements),
  ].filter((x) => x !== undefined);
  return `${flag}**changed** ${code(c.label)}: ${parts.join('; ')}${c.widens.length ? ` — ${c.widens.join('; ')}` : ''}`;
}

/** Markdown inline code and bold as HTML, for a <summary> (GitHub does not render Markdown there). */
function summaryHtml(text: string): string {
  const escaped = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return escaped.replace(/\*\*(.+?)\*\*/g, '<b>$1</b>').replace(/`([^`]+)`/g, '<code>$1</code>');
}

function accessBlock(a: AccessChange, l: Limits): string[] {
  const widened = a.action !== 'create' && a.widens.length > 0;
  const action = a.action === 'delete' ? 'destroy' : a.action;
  const head = `**${a.what}** (${action}${a.attribute !== 'policy' ? `, ${a.attribute}` : ''})${widened ? ' — ⚠ widens access' : ''}${a.fromDocument ? ' — the new statements are read from the policy document, parts known only after apply' : ''}`;
  if (a.changes.length === 0) return ['', `- ${head}: ${a.widens.join('; ')}`];
  if (a.action === 'create' || (a.action === 'delete' && !widened)) {
    // A new policy grants what it holds and a destroyed one takes it away: a count, the statements folded.
    const what = `${plural(a.changes.length, 'statement')}${a.action === 'delete' ? ' removed' : ''}`;
    const stars = a.widens.length ? ` — ⚠ ${a.widens.join('; ')}` : '';
    if (!l.details || a.action === 'delete') return ['', `- ${head}: ${what}${stars}`];
    return ['', `- <details><summary>${summaryHtml(`${head}: ${what}${stars}`)}</summary>`, '', ...a.changes.map((c) => `  - ${statementText(c.statement)}${c.statement.sid ? ` (${code(c.statement.sid)})` : ''}`), '', '  </details>'];
  }
  const { shown, more } = clip(a.changes, l.items);
  return ['', `- ${head}`, ...shown.map((c) => `  - ${statementChangeText(c)}`), ...(more ? [`  - ${more}`] : [])];
}

function accessSection(r: Review, l: Limits): string[] {
  if (!r.access.length) return [];
  const out = ['', '### Access'];
  if (r.access.some((a) => a.action !== 'create' && a.widens.length)) out.push('', '> [!WARNING]', '> This plan widens access: the statements marked ⚠ grant more than before.');
  for (const [id, group] of byInstance(r, r.access)) {
    out.push('', `**${instanceLabel(r, id)}**`);
    const { shown, more } = clip(group, l.items);
    for (const a of shown) out.push(...accessBlock(a, l));
    if (more) out.push('', `- ${more}`);
  }
  return out;
}

function restSection(r: Review, l: Limits): string[] {
  if (!r.other.length) return [];
  // A move with nothing else is not a change: counted apart, as in the counts line.
  const moveOnly = r.other.filter((o) => o.action === 'no-op' && o.movedFrom).length;
  const count = [r.other.length - moveOnly ? plural(r.other.length - moveOnly, 'change') : '', moveOnly ? plural(moveOnly, 'move') : ''].filter(Boolean).join(', ');
  const out = ['', `<details><summary>Everything else: ${count}</summary>`];
  // (GitHub needs the blank line after </summary> to render the Markdown inside.)
  for (const [id, group] of byInstance(r, r.other)) {
    out.push('', `**${instanceLabel(r, id)}**`, '');
    const { shown, more } = clip(group, l.items);
    for (const o of shown) {
      const detail = [o.changed.length ? o.changed.join(', ') : '', o.unknown.length ? `known after apply: ${o.unknown.join(', ')}` : ''].filter(Boolean).join('; ');
      const action = o.action === 'delete' ? 'destroy' : o.action === 'no-op' && o.movedFrom ? 'move' : o.action;
      const moved = o.movedFrom ? ` (moved from ${code(o.movedFrom)})` : '';
      out.push(`- **${action}** ${code(o.address)} (${o.noun})${moved}${detail ? `: ${detail}` : ''}`);
    }
    if (more) out.push(`- ${more}`);
  }
  out.push('', '</details>');
  return out;
}

function otherDriftSection(r: Review, l: Limits): string[] {
  const other = r.drift.other;
  if (!other.length) return [];
  // Resources that differ only where the configuration sets nothing: one line each instance, after the real changes.
  const readBack = (o: (typeof other)[number]): boolean => o.action === 'update' && o.changed.length === 0;
  const out = ['', `<details><summary>Changed outside Terraform: ${plural(other.length, 'other resource')}</summary>`];
  for (const [id, group] of byInstance(r, other)) {
    out.push('', `**${instanceLabel(r, id)}**`, '');
    const { shown, more } = clip(group.filter((o) => !readBack(o)), l.items);
    for (const o of shown) {
      const what = o.action === 'delete' ? 'deleted' : o.action === 'update' ? 'changed' : o.movedFrom ? 'moved' : o.action;
      out.push(`- **${what}** ${code(o.address)} (${o.noun})${o.movedFrom ? ` (moved from ${code(o.movedFrom)})` : ''}${o.changed.length ? `: ${o.changed.join(', ')}` : ''}`);
    }
    if (more) out.push(`- ${more}`);
    const only = clip(group.filter(readBack), l.items);
    if (only.shown.length) {
      out.push(`- read back differently, only in values the configuration does not set (an apply changes nothing there): ${only.shown.map((o) => `${code(o.address)} (${o.notConfigured.join(', ')})`).join(', ')}${only.more ? `, ${only.more}` : ''}`);
    }
  }
  out.push('', '</details>');
  return out;
}

function footer(r: Review): string[] {
  const out = [''];
  for (const n of r.notes) out.push(`> ${n}`, '');
  // Terraform's own test fixtures, and some wrappers, leave terraform_version out: say nothing rather than "?".
  out.push(`<sub>ddb-flatten review-plan${r.terraformVersion ? ` · Terraform ${r.terraformVersion}` : ''} · exit ${r.exitCode}</sub>`, '');
  return out;
}

function render(r: Review, options: MarkdownOptions, l: Limits): string {
  return [
    ...headline(r, options, l),
    ...couldNotFinishSection(r, l),
    ...riskSection(r, l),
    ...checksSection(r, l),
    ...versionsSection(r, l),
    ...viewsSection(r, l),
    ...accessSection(r, l),
    ...restSection(r, l),
    ...otherDriftSection(r, l),
    ...footer(r),
  ].join('\n');
}

/** The review as Markdown, within `maxChars`: lists and diffs are shortened level by level, and as a last resort the text is cut. */
export function reviewMarkdown(r: Review, options: MarkdownOptions = {}): string {
  const max = options.maxChars ?? GITHUB_COMMENT_LIMIT - 1_536;
  let text = '';
  for (const l of LEVELS) {
    text = render(r, options, l);
    if (text.length <= max) return text;
  }
  // Still too long (thousands of instances): cut on a line boundary, close what is open.
  const note = `\n\n> The review is cut here (${CUT_NOTE}).\n\n${footer(r).join('\n')}`;
  let cut = text.slice(0, Math.max(0, max - note.length - 16));
  cut = cut.slice(0, cut.lastIndexOf('\n'));
  const fences = cut.match(/^(```|~~~~)/gm) ?? [];
  if (fences.length % 2 === 1) cut += `\n${fences[fences.length - 1]}`;
  const open = (cut.match(/<details>/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
  for (let k = 0; k < open; k++) cut += '\n\n</details>';
  return cut + note;
}
