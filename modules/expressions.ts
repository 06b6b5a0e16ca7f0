import { Fn, Op, ref, TerraformDataSource, TerraformLocal, Token, type TerraformResource, TerraformStack } from './cdk.ts';
import type { Construct } from 'constructs';
import { isToken } from './validation.ts';

/**
 * Helpers that let one construct serve two callers: a CDKTF app passing
 * literal props (plain, readable Terraform JSON) and the Terraform module
 * build passing variables (Terraform expressions). Each helper takes the
 * literal path when it can and builds the Terraform expression otherwise.
 */

export { isToken };

/** Whether a resource is created: a literal decides at synth; a token becomes `count = flag ? 1 : 0`. */
export interface Gate {
  /** False: do not create the resource at all. */
  readonly create: boolean;
  /** Set when the decision is Terraform's (module build). */
  readonly count?: number;
}

export function gate(flag: boolean): Gate {
  if (isToken(flag)) return { create: true, count: Token.asNumber(Fn.conditional(flag, 1, 0)) };
  return { create: flag !== false };
}

/** A gate that is open only when both are. */
export function bothGates(a: Gate, b: Gate): Gate {
  if (!a.create || !b.create) return { create: false };
  if (a.count === undefined) return b;
  if (b.count === undefined) return a;
  return { create: true, count: Token.asNumber(Fn.min([a.count, b.count])) };
}

/** The `count` argument for a resource behind a gate (undefined for a literal gate). */
export function countOf(g: Gate): { count?: number } {
  return g.count === undefined ? {} : { count: g.count };
}

/** An attribute of a gated resource: the plain reference, or `one(resource[*].attr)` (null when count is 0). */
export function gatedAttr(resource: TerraformResource | TerraformDataSource, g: Gate, attr: string, plain: string): string {
  if (g.count === undefined) return plain;
  // A symbol check, not instanceof: it holds across the cdktf and cdktn cores.
  const kind = TerraformDataSource.isTerraformDataSource(resource) ? 'data.' : '';
  return Token.asString(Fn.one(ref(`${kind}${resource.terraformResourceType}.${resource.friendlyUniqueId}[*].${attr}`, TerraformStack.of(resource))));
}

/** `flag ? a : b`, literal or Terraform. */
export function choose<T>(flag: boolean, whenTrue: T, whenFalse: T): T {
  if (isToken(flag)) return Fn.conditional(flag, whenTrue, whenFalse) as T;
  return flag !== false ? whenTrue : whenFalse;
}

/** `value`, or `fallback` when it is absent (undefined here, null or "" in Terraform). */
export function orDefault(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (!isToken(value)) return value;
  return Fn.coalesce([value, fallback]);
}

/** Whether an optional value is absent: a literal decides at synth; a token becomes `length(compact([v])) < 1`. */
export function isAbsent(value: string | undefined): boolean {
  if (value === undefined) return true;
  if (!isToken(value)) return false;
  // (CDKTF's operators render a literal 0 as "undefined", so compare with 1.)
  return Op.lt(Fn.lengthOf(Fn.compact([value])), 1) as unknown as boolean;
}

/** Negation of a literal or Terraform boolean. */
export function not(flag: boolean): boolean {
  if (!isToken(flag)) return !flag;
  return Op.not(flag) as unknown as boolean;
}

/**
 * `expression` as a Terraform local named `name` (`local.<name>` in the module's HCL): one readable
 * name for an expression that many others repeat.
 */
export function localString(scope: Construct, name: string, expression: string): string {
  const l = new TerraformLocal(scope, name, expression);
  l.overrideLogicalId(name);
  return l.asString;
}

/**
 * A literal string for use inside Terraform expressions. CDKTF's own
 * escaping of quoted literals nested in function calls is unreliable, so a
 * literal that holds quotes is stored as a Terraform local (a plain JSON
 * string, with template sequences escaped) and referenced as `local.<id>`.
 */
export function literalLocal(scope: Construct, id: string, text: string): string {
  return Token.asString(new TerraformLocal(scope, id, text.replaceAll('${', '$${').replaceAll('%{', '%%{')).expression);
}

/**
 * `text` with each marker replaced by its fill. Literal fills are replaced
 * here; when a fill is a Terraform expression the text becomes a local and
 * the result a chain of Terraform replace() calls over it.
 */
export function fillTemplate(scope: Construct, id: string, text: string, fills: Readonly<Record<string, string>>): string {
  let literal = text;
  const deferred: [string, string][] = [];
  for (const [marker, fill] of Object.entries(fills)) {
    if (isToken(fill)) deferred.push([marker, fill]);
    else literal = literal.replaceAll(marker, fill);
  }
  if (deferred.length === 0) return literal;
  let expr = literalLocal(scope, id, literal);
  for (const [marker, fill] of deferred) expr = Fn.replace(expr, marker, fill);
  return expr;
}

/** Comma-joined list, for the handler's environment. */
export function joinList(list: readonly string[]): string {
  if (isToken(list) || list.some(isToken)) return Fn.join(',', list as string[]);
  return list.join(',');
}

/** The non-null entries of a list that may hold null tokens. */
export function presentValues(values: readonly (string | undefined)[]): string[] {
  const given = values.filter((v): v is string => v !== undefined);
  if (given.some(isToken)) return Token.asList(Fn.compact(given));
  return given;
}

/** `name` with - replaced by _ (Glue and Athena identifiers). */
export function underscored(name: string): string {
  if (isToken(name)) return Fn.replace(name, '-', '_');
  return name.replaceAll('-', '_');
}

