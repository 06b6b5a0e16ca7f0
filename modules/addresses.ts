import { TerraformDataSource, TerraformResource, TerraformStack, type TerraformElement } from './cdk.ts';
import { Construct, type IConstruct } from 'constructs';

/**
 * Stable, readable Terraform addresses. CDKTF names a resource after its
 * construct path plus a hash (`aws_dynamodb_table.pipeline_source_table_9C33FAD4`),
 * so a refactor of the constructs renames it, and a plan shows a rename as
 * destroy and create: the table, the bucket, the trigger. Here every
 * resource and data source gets a fixed snake_case name that says what it
 * is (`aws_dynamodb_table.source`), the same in the CDKTF stack and in the
 * Terraform module; test/module/addresses.test.ts holds the list.
 *
 * For state written before names were fixed (0.1.0), each resource also
 * gets a `moved` block from the address CDKTF would have generated for it
 * (the construct paths are unchanged, so the hashes are the same); a moved
 * block whose old address is not in the state does nothing.
 *
 * Two pipelines in one stack need distinct names: `addressPrefix`.
 */

export interface MovedBlock {
  readonly from: string;
  readonly to: string;
}

/**
 * Renames after names were fixed: when an address must change, keep the old
 * one here (without addressPrefix) so every stack and the module carry a
 * moved block for it; test/module/addresses.test.ts requires one for every
 * address a release shipped (test/fixtures/addresses-<version>.json).
 */
export const ADDRESS_MOVES: readonly MovedBlock[] = [];

const books = new WeakMap<IConstruct, AddressBook>();
const stackBooks = new WeakMap<TerraformStack, { names: Map<string, string>; moved: MovedBlock[] }>();

/** The address name rule: snake_case, starting with a letter (Terraform allows more; readers want this). */
export const ADDRESS_NAME = /^[a-z][a-z0-9_]*$/;

export class AddressBook {
  readonly prefix: string;
  private readonly stack: TerraformStack;

  private constructor(owner: Construct, prefix: string) {
    this.prefix = prefix;
    this.stack = TerraformStack.of(owner);
    if (!stackBooks.has(this.stack)) stackBooks.set(this.stack, { names: new Map(), moved: [] });
  }

  /** Gives the constructs under `owner` their names, each prefixed with `prefix` (empty: none). */
  static attach(owner: Construct, prefix: string): AddressBook {
    const book = new AddressBook(owner, prefix);
    books.set(owner, book);
    return book;
  }

  static of(element: IConstruct): AddressBook {
    for (let scope: IConstruct | undefined = element; scope; scope = scope.node.scope) {
      const book = books.get(scope);
      if (book) return book;
    }
    throw new Error(`${element.node.path}: no AddressBook above this construct (create it inside a FlatteningPipeline)`);
  }

  /**
   * Names an element; for a resource that shipped before names were fixed, also records the move from
   * its generated address (`introduced`: the version that added the resource, which has no old address).
   */
  name<T extends TerraformElement>(element: T, name: string, introduced?: string): T {
    const full = this.prefix ? `${this.prefix}_${name}` : name;
    if (!ADDRESS_NAME.test(full)) throw new Error(`${element.node.path}: "${full}" is not a snake_case address name`);
    // Symbol-based checks (not instanceof): they hold across the cdktf and cdktn cores.
    const isData = TerraformDataSource.isTerraformDataSource(element);
    const isResource = TerraformResource.isTerraformResource(element);
    if (!isData && !isResource) throw new Error(`${element.node.path}: only resources and data sources get address names`);
    const kind = (element as unknown as { terraformResourceType: string }).terraformResourceType;
    const address = `${isData ? 'data.' : ''}${kind}.${full}`;
    const book = stackBooks.get(this.stack)!;
    const taken = book.names.get(address);
    if (taken !== undefined) {
      throw new Error(
        `${element.node.path}: the address ${address} is already used by ${taken}: give each FlatteningPipeline in a stack its own addressPrefix`,
      );
    }
    book.names.set(address, element.node.path);
    const generated = this.stack.getLogicalId(element);
    element.overrideLogicalId(full);
    if (isResource && introduced === undefined && generated !== full) book.moved.push({ from: `${kind}.${generated}`, to: `${kind}.${full}` });
    return element;
  }

  /** Every move recorded in this stack so far. */
  moved(): readonly MovedBlock[] {
    return stackBooks.get(this.stack)!.moved;
  }

  /** Writes the stack's moved blocks (all pipelines in it), replacing what an earlier pipeline wrote. */
  emitMoved(): void {
    const book = stackBooks.get(this.stack)!;
    const withPrefix = (address: string): string => {
      const dot = address.lastIndexOf('.');
      return this.prefix ? `${address.slice(0, dot)}.${this.prefix}_${address.slice(dot + 1)}` : address;
    };
    for (const m of ADDRESS_MOVES) {
      const move = { from: withPrefix(m.from), to: withPrefix(m.to) };
      if (!book.moved.some((x) => x.from === move.from)) book.moved.push(move);
    }
    const moved = this.moved();
    if (moved.length) this.stack.addOverride('moved', moved.map((m) => ({ from: m.from, to: m.to })));
  }
}

/** `named(new DynamodbTable(this, 'table', {...}), 'source')`: the element with its fixed address name. */
export function named<T extends TerraformElement>(element: T, name: string, options: { introduced?: string } = {}): T {
  return AddressBook.of(element).name(element, name, options.introduced);
}
