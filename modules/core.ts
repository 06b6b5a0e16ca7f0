import type { IConstruct } from 'constructs';
import { App, TerraformStack } from './cdk.ts';

/**
 * Which CDK core this copy of the library is built on, and a guard against
 * mixing cores in one app.
 *
 * cdktf and cdktn are rename-level forks: their symbol-based checks
 * (`TerraformStack.isStack`, `Token.isUnresolved`, …) use the same symbols,
 * so a cdktf construct placed in a cdktn stack is accepted at construction
 * and only crashes at synth, deep inside the core
 * (`e._resetResolveDiscoveredProviderFeatureUsage is not a function`).
 * What does tell them apart is jsii's runtime type information, which
 * every class of a jsii package carries under `Symbol.for('jsii.rtti')`:
 * `{ fqn: 'cdktf.TerraformStack' }` or `{ fqn: 'cdktn.TerraformStack' }`.
 * A subclass written in TypeScript inherits it as a static property.
 */

const RTTI = Symbol.for('jsii.rtti');

/** The npm package a jsii class comes from (`cdktf`, `cdktn`, `constructs`…), or undefined for a class without type info. */
function packageOfClass(cls: unknown): string | undefined {
  const fqn = (cls as { [RTTI]?: { fqn?: unknown } } | undefined)?.[RTTI]?.fqn;
  return typeof fqn === 'string' && fqn.includes('.') ? fqn.slice(0, fqn.indexOf('.')) : undefined;
}

/** The npm package of the core a construct (a stack, an app) is an instance of. */
export function corePackageOf(construct: object): string | undefined {
  return packageOfClass(construct.constructor);
}

function ownCore(): string {
  const core = packageOfClass(TerraformStack);
  if (!core) throw new Error('ddb-flatten: the CDK core imported by modules/cdk.ts carries no jsii type information; expected cdktf or cdktn');
  return core;
}

/** The core of this flavour, read from the class the seam imports (so the cdktn build needs no edit here). */
export const CORE: string = ownCore();

/**
 * Throws when `scope` belongs to a stack or app of the other core. Called
 * by the library's entry constructs before they add anything to the tree.
 */
export function assertSameCore(scope: IConstruct, what: string, id: string): void {
  for (let s: IConstruct | undefined = scope; s; s = s.node.scope) {
    const kind = TerraformStack.isStack(s) ? 'stack' : App.isApp(s) ? 'app' : undefined;
    if (!kind) continue;
    const theirs = corePackageOf(s);
    if (theirs === undefined || theirs === CORE) return;
    const path = [scope.node.path, id].filter(Boolean).join('/');
    throw new Error(
      `${what} "${path}" is built on ${CORE} (ddb-flatten/${CORE}), but the ${kind} "${s.node.path || '(app)'}" is a ${theirs} ${kind}: ` +
        `one app must use one CDK core, ${CORE} or ${theirs}, not both. ` +
        `In a ${theirs} app import it from 'ddb-flatten/${theirs}'; in a ${CORE} app from 'ddb-flatten/${CORE}'.`,
    );
  }
}
