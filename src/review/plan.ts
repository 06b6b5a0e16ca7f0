import { jsonSyntaxError, lineColumn } from './json-error.ts';

/**
 * The parts of Terraform's JSON plan (`terraform show -json tfplan`,
 * format_version 1.x) the review reads, and reading one from text with a
 * reason for every way a file can be wrong: not JSON (where), cut off, a
 * state instead of a plan, something else entirely. The shapes follow
 * Terraform's internal/command/jsonplan (plan.go) and jsonchecks, v1.11.
 */

export interface Change {
  readonly actions: readonly string[];
  readonly before: any;
  readonly after: any;
  /** Mirrors `after`: true where the value is known only after apply. */
  readonly after_unknown?: any;
  /** Paths of the arguments whose change forces the replacement. */
  readonly replace_paths?: readonly (readonly (string | number)[])[];
  /** Mirror `before` / `after`: true where the value is sensitive (the JSON still holds it in clear). */
  readonly before_sensitive?: unknown;
  readonly after_sensitive?: unknown;
}

export interface ResourceChange {
  readonly address: string;
  readonly module_address?: string;
  readonly mode: 'managed' | 'data';
  readonly type: string;
  readonly name: string;
  readonly index?: string | number;
  readonly change: Change;
  readonly action_reason?: string;
  /** Set when a `moved` block (or a refactoring) gave the resource a new address. */
  readonly previous_address?: string;
}

export interface Expression {
  readonly constant_value?: unknown;
  readonly references?: readonly string[];
}

export interface ConfigResource {
  readonly address: string;
  readonly mode: 'managed' | 'data';
  readonly type: string;
  readonly name: string;
  readonly expressions?: Readonly<Record<string, Expression | readonly Record<string, Expression>[]>>;
  /** Set when the block has count or for_each: it may have no instance at all. */
  readonly count_expression?: Expression;
  readonly for_each_expression?: Expression;
}

export interface ConfigModule {
  readonly resources?: readonly ConfigResource[];
  readonly module_calls?: Readonly<Record<string, ModuleCall>>;
  readonly variables?: Readonly<Record<string, { readonly default?: unknown }>>;
}

export interface ModuleCall {
  readonly source?: string;
  readonly expressions?: Readonly<Record<string, Expression>>;
  readonly module?: ConfigModule;
  readonly count_expression?: Expression;
  readonly for_each_expression?: Expression;
}

/** One checkable object of `checks[]` (Terraform 1.3+; experimental in Terraform's docs). */
export interface CheckResult {
  /** `kind`: resource (pre/postconditions), output_value, check (check blocks), var (variable validation). */
  readonly address: { readonly kind?: string; readonly to_display: string; readonly module?: string; readonly name?: string };
  /** pass, fail, error or unknown: the aggregate of the instances. */
  readonly status: string;
  readonly instances?: readonly {
    readonly address: { readonly to_display: string; readonly module?: string };
    readonly status: string;
    /** The error_message of each condition that failed. */
    readonly problems?: readonly { readonly message: string }[];
  }[];
}

/** A module of `prior_state.values` (the state the plan starts from). */
export interface StateModule {
  readonly resources?: readonly { readonly address: string; readonly mode: string; readonly type: string }[];
  readonly child_modules?: readonly StateModule[];
}

export interface Plan {
  readonly format_version: string;
  readonly terraform_version?: string;
  readonly variables?: Readonly<Record<string, { readonly value?: unknown }>>;
  readonly resource_changes?: readonly ResourceChange[];
  /**
   * What Terraform found changed outside Terraform when it refreshed: `before`
   * is the state, `after` what AWS has now (null when the object is gone).
   * In a refresh-only plan it holds every change found; otherwise the ones
   * that are not a no-op.
   */
  readonly resource_drift?: readonly ResourceChange[];
  readonly checks?: readonly CheckResult[];
  readonly configuration?: { readonly root_module?: ConfigModule };
  readonly prior_state?: { readonly values?: { readonly root_module?: StateModule } };
  /** Changes Terraform could not plan yet (deferred actions; experimental in 1.11). */
  readonly deferred_changes?: readonly { readonly reason?: string; readonly resource_change?: ResourceChange }[];
  /** Planning failed: only the changes planned before the error are here (Terraform 1.6+). */
  readonly errored?: boolean;
  /** After the apply, Terraform expects the state to match the configuration (false: -target, deferred changes, errors; 1.8+). */
  readonly complete?: boolean;
  /** The plan could be applied: no error, and something to do (1.8+). */
  readonly applyable?: boolean;
}

/** A plan file the review cannot read; the message says which file and what is wrong with it. */
export class PlanFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanFileError';
  }
}

/** Parses a plan's JSON text; `name` is the file name used in every message. */
export function parsePlan(text: string, name: string): Plan {
  if (text.trim() === '') throw new PlanFileError(`${name} is empty: expected the output of terraform show -json tfplan`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const where = jsonSyntaxError(text);
    if (!where) throw error; // JSON.parse and the scanner disagree: a bug, not a bad file
    const { line, column } = lineColumn(text, where.offset);
    if (where.truncated) {
      throw new PlanFileError(`${name} is truncated: it ends at line ${line} (${text.length.toLocaleString('en-US')} bytes) in the middle of a value; the file was cut off, write it again with terraform show -json tfplan`);
    }
    const found = JSON.stringify(text.slice(where.offset, where.offset + 12));
    throw new PlanFileError(`${name} is not JSON: at line ${line}, column ${column}, expected ${where.expected} but found ${found}; expected the output of terraform show -json tfplan`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new PlanFileError(`${name} is JSON but not a Terraform plan: expected an object with format_version and resource_changes (terraform show -json tfplan)`);
  }
  const o = json as Record<string, unknown>;
  if (typeof o.format_version !== 'string') {
    const hint = 'serial' in o && 'resources' in o ? ' it looks like a state file (.tfstate);' : '';
    throw new PlanFileError(`${name} is JSON but not a Terraform plan (no format_version):${hint} write the plan with terraform plan -out=tfplan, then terraform show -json tfplan`);
  }
  if (!o.format_version.startsWith('1.')) {
    // Terraform 0.12 to 1.0.0 write 0.1, 1.0.1 to 1.0.11 write 0.2; 1.1.0 was the first to write 1.0
    // (internal/command/jsonplan FormatVersion, commit b9f3dab "json-output: Release format version 1.0").
    const hint = o.format_version.startsWith('0.') ? ' (Terraform 1.1 and later write it; this file is from Terraform 1.0 or older): plan and show it again with Terraform 1.1 or later' : '';
    throw new PlanFileError(`${name} has plan format_version ${o.format_version}; this review reads format 1.x${hint}`);
  }
  if (!('planned_values' in o) && !('resource_changes' in o)) {
    const hint = 'values' in o ? ' it looks like terraform show -json of a state, not of a plan file;' : '';
    throw new PlanFileError(`${name} is not a Terraform plan (no resource_changes or planned_values):${hint} run terraform show -json on the file written by terraform plan -out`);
  }
  for (const key of ['resource_changes', 'resource_drift', 'checks', 'deferred_changes']) {
    if (o[key] !== undefined && !Array.isArray(o[key])) throw new PlanFileError(`${name} is not a Terraform plan: ${key} is not a list`);
  }
  return o as unknown as Plan;
}

/* ---- actions ---- */

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'read' | 'no-op' | 'forget' | string;

/** The one action of a change: delete+create in either order is a replace. */
export function actionOf(actions: readonly string[]): Action {
  if (actions.length === 2 && actions.includes('delete') && actions.includes('create')) return 'replace';
  return actions.join('+') || 'no-op';
}

/** Destroys what exists today: a delete, or the delete half of a replace. */
export const destroys = (action: Action): boolean => action === 'delete' || action === 'replace';

/* ---- values and paths ---- */

export type Path = readonly (string | number)[];

export function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || v === undefined || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

/** True when anything at or under `path` is marked unknown in an after_unknown tree. */
export function unknownAt(afterUnknown: unknown, path: Path = []): boolean {
  const u = valueAt(afterUnknown, path);
  if (u === true) return true;
  if (u && typeof u === 'object') return Object.values(u).some((x) => unknownAt(x));
  // An ancestor marked true covers everything under it.
  for (let n = path.length - 1; n >= 0; n--) if (valueAt(afterUnknown, path.slice(0, n)) === true) return true;
  return false;
}

/**
 * True when the value at `path` (or around it) is sensitive: `terraform show -json` prints sensitive
 * values in clear and marks them in before_sensitive / after_sensitive; the review, which ends up in
 * a PR comment, must not repeat them.
 */
export function sensitiveAt(change: Change, side: 'before' | 'after', path: Path = []): boolean {
  const marks = side === 'before' ? change.before_sensitive : change.after_sensitive;
  if (marks === true) return true;
  for (let n = 1; n <= path.length; n++) if (valueAt(marks, path.slice(0, n)) === true) return true;
  return unknownAt(valueAt(marks, path));
}

/** `range_key`, `attribute[1].name`: a path as Terraform writes it. */
export function pathText(path: Path): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** Absent, null, "", [] and {} (also nested): what a provider writes one way on create and another on read. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/**
 * Equal, taking every empty value for the same: a read after the apply
 * often gives [] where the state has null (alarm actions, Glue columns'
 * lists), which is bookkeeping, not a change anyone made.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    return [...new Set([...Object.keys(x), ...Object.keys(y)])].every((k) => sameValue(x[k], y[k]));
  }
  return a === b;
}

/** Top-level arguments whose value differs, or becomes known only after apply. */
export function changedAttributes(change: Change): { changed: string[]; unknown: string[] } {
  const before = (change.before ?? {}) as Record<string, unknown>;
  const after = (change.after ?? {}) as Record<string, unknown>;
  const changed: string[] = [];
  const unknown: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(change.after_unknown ?? {})])) {
    if (unknownAt(change.after_unknown, [key])) {
      if (change.before !== null && change.before !== undefined) unknown.push(key);
    } else if (JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null)) {
      changed.push(key);
    }
  }
  return { changed, unknown };
}

/* ---- configuration: expressions and module inputs ---- */

/** `module.a[0].module.b` -> ['a', 'b']: the module calls of an address, without instance keys. */
export function moduleCallPath(moduleAddress: string | undefined): string[] {
  if (!moduleAddress) return [];
  return [...moduleAddress.matchAll(/module\.([A-Za-z0-9_-]+)(\[[^\]]*\])?/g)].map((m) => m[1]!);
}

function configModule(plan: Plan, moduleAddress: string | undefined): { module?: ConfigModule; calls: ModuleCall[] } {
  let module = plan.configuration?.root_module;
  const calls: ModuleCall[] = [];
  for (const name of moduleCallPath(moduleAddress)) {
    const call = module?.module_calls?.[name];
    if (!call) return { calls };
    calls.push(call);
    module = call.module;
  }
  return { module, calls };
}

/** The configuration block of a resource change (same module, type and name). */
export function configOf(plan: Plan, rc: ResourceChange): ConfigResource | undefined {
  return configModule(plan, rc.module_address).module?.resources?.find((r) => r.mode === rc.mode && r.type === rc.type && r.name === rc.name);
}

export function expressionOf(plan: Plan, rc: ResourceChange, argument: string): Expression | undefined {
  const e = configOf(plan, rc)?.expressions?.[argument];
  return e && !Array.isArray(e) ? (e as Expression) : undefined;
}

/**
 * True for a literal: a constant with no references. (In a JSON-syntax
 * module a template string is a "constant_value" too, but it has references.)
 */
export const isLiteral = (e: Expression | undefined): boolean => e?.constant_value !== undefined && !(e.references?.length);

/**
 * The value of `var.<name>` as the module sees it, when the plan states it:
 * a literal argument of the module call, the variable's default, or for the
 * root module the plan's variables. `undefined` when not known this way.
 */
export function variableValue(plan: Plan, moduleAddress: string | undefined, name: string): unknown {
  const { module, calls } = configModule(plan, moduleAddress);
  if (calls.length === 0) return moduleAddress ? undefined : plan.variables?.[name]?.value;
  const argument = calls[calls.length - 1]!.expressions?.[name];
  if (argument) return isLiteral(argument) ? argument.constant_value : undefined;
  const variable = module?.variables?.[name];
  return variable && 'default' in variable ? variable.default : undefined;
}
