import { heredocTemplate, quotedLiteral, quotedTemplate, soleInterpolation } from './templates.ts';

/**
 * Terraform JSON (what CDKTF synthesizes) written as HCL, for reviewers and
 * for `terraform fmt`. The JSON syntax cannot say whether a key is an
 * argument or a nested block; the provider's schema can, so the emitter is
 * given the block structure of every resource and data source it meets
 * (stacks/hcl/aws-blocks.json, extracted from `terraform providers schema`).
 *
 * Values: a string that is one interpolation (`"${expr}"`) becomes the bare
 * expression; other strings stay templates (a heredoc when they span
 * lines); lists and objects become HCL lists and object constructors.
 * The output is valid HCL; `terraform fmt` then aligns it.
 */

/** Nested block types of a block, recursively (attributes are everything else). */
export interface BlockSchema {
  readonly [block: string]: BlockSchema;
}

export interface ProviderBlocks {
  readonly resource: Readonly<Record<string, BlockSchema>>;
  readonly data: Readonly<Record<string, BlockSchema>>;
}

type Json = unknown;
type JsonObject = Record<string, Json>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Meta-arguments of resources and data sources, in the order HCL style guides put them. */
const LEADING_META = ['count', 'for_each', 'provider'];
const TRAILING_META = ['depends_on', 'lifecycle'];

class Writer {
  private readonly lines: string[] = [];
  line(indent: number, text: string): void {
    this.lines.push(`${'  '.repeat(indent)}${text}`);
  }
  blank(): void {
    if (this.lines.length && this.lines[this.lines.length - 1] !== '') this.lines.push('');
  }
  text(): string {
    while (this.lines.length && this.lines[this.lines.length - 1] === '') this.lines.pop();
    return `${this.lines.join('\n')}\n`;
  }
}

/** A key of an object constructor: bare when it is an identifier, quoted otherwise. */
function objectKey(key: string): string {
  return IDENTIFIER.test(key) ? key : quotedTemplate(key);
}

/** An expression for a JSON value. `literal`: strings are plain text, not templates (variable defaults). */
export function expression(value: Json, indent: number, literal = false): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    if (literal) return quotedLiteral(value);
    const sole = soleInterpolation(value);
    if (sole !== undefined) return sole;
    if (value.includes('\n') && value.indexOf('\n') !== value.length - 1) {
      const heredoc = heredocTemplate(value, '  '.repeat(indent));
      if (heredoc) return heredoc;
    }
    return quotedTemplate(value);
  }
  const pad = '  '.repeat(indent + 1);
  const close = '  '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => expression(v, indent + 1, literal));
    const oneLine = `[${items.join(', ')}]`;
    if (oneLine.length <= 100 && !oneLine.includes('\n')) return oneLine;
    return `[\n${items.map((i) => `${pad}${i},`).join('\n')}\n${close}]`;
  }
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${pad}${objectKey(k)} = ${expression(v, indent + 1, literal)}`).join('\n')}\n${close}}`;
  }
  throw new Error(`cannot write ${typeof value} as HCL`);
}

/** A list of references (depends_on, ignore_changes, replace_triggered_by, moved from/to): bare traversals. */
function references(value: Json): string {
  const list = Array.isArray(value) ? value : [value];
  return `[${list.map((v) => String(v).replace(/^\$\{(.*)\}$/, '$1')).join(', ')}]`;
}

function attribute(w: Writer, indent: number, key: string, value: Json): void {
  w.line(indent, `${key} = ${expression(value, indent)}`);
}

/** The blocks of one key: a JSON object is one block, an array one block per element. */
function blocks(value: Json): JsonObject[] {
  if (Array.isArray(value)) return value.map((v) => (isObject(v) ? v : {}));
  return isObject(value) ? [value] : [];
}

function lifecycle(w: Writer, indent: number, value: Json): void {
  for (const lc of blocks(value)) {
    w.line(indent, 'lifecycle {');
    for (const [k, v] of Object.entries(lc)) {
      if (k === 'ignore_changes' || k === 'replace_triggered_by') w.line(indent + 1, `${k} = ${v === 'all' ? 'all' : references(v)}`);
      else if (k === 'precondition' || k === 'postcondition') {
        for (const c of blocks(v)) {
          w.line(indent + 1, `${k} {`);
          body(w, indent + 2, c, {});
          w.line(indent + 1, '}');
        }
      } else attribute(w, indent + 1, k, v);
    }
    w.line(indent, '}');
  }
}

function dynamicBlocks(w: Writer, indent: number, value: Json, schema: BlockSchema): void {
  for (const dyn of blocks(value)) {
    for (const [label, spec] of Object.entries(dyn)) {
      const s = spec as JsonObject;
      if (!(label in schema)) throw new Error(`dynamic "${label}": not a block of this resource (blocks: ${Object.keys(schema).join(', ') || 'none'})`);
      w.line(indent, `dynamic ${quotedTemplate(label)} {`);
      attribute(w, indent + 1, 'for_each', s.for_each);
      if (s.iterator !== undefined) w.line(indent + 1, `iterator = ${String(s.iterator)}`);
      w.line(indent + 1, 'content {');
      body(w, indent + 2, (s.content ?? {}) as JsonObject, schema[label]);
      w.line(indent + 1, '}');
      w.line(indent, '}');
    }
  }
}

/** The body of a block: meta-arguments, arguments, nested blocks, dynamic blocks, then depends_on and lifecycle. */
function body(w: Writer, indent: number, obj: JsonObject, schema: BlockSchema): void {
  const keys = Object.keys(obj);
  const ordered = [
    ...LEADING_META.filter((k) => keys.includes(k)),
    ...keys.filter((k) => !LEADING_META.includes(k) && !TRAILING_META.includes(k) && !(k in schema) && k !== 'dynamic'),
    ...keys.filter((k) => k in schema),
    ...(keys.includes('dynamic') ? ['dynamic'] : []),
    ...TRAILING_META.filter((k) => keys.includes(k)),
  ];
  let previousWasBlock = false;
  for (const key of ordered) {
    const value = obj[key];
    const isBlock = key in schema || key === 'dynamic' || key === 'lifecycle';
    const afterMeta = LEADING_META.includes(ordered[ordered.indexOf(key) - 1] ?? '') && !LEADING_META.includes(key);
    if ((isBlock || previousWasBlock || afterMeta) && key !== ordered[0]) w.blank();
    previousWasBlock = isBlock;
    if (key === 'provider') w.line(indent, `provider = ${String(value).replace(/^\$\{(.*)\}$/, '$1')}`);
    else if (key === 'depends_on') w.line(indent, `depends_on = ${references(value)}`);
    else if (key === 'lifecycle') lifecycle(w, indent, value);
    else if (key === 'dynamic') dynamicBlocks(w, indent, value, schema);
    else if (key in schema) {
      for (const b of blocks(value)) {
        if (Object.keys(b).length === 0) {
          w.line(indent, `${key} {}`);
          continue;
        }
        w.line(indent, `${key} {`);
        body(w, indent + 1, b, schema[key]);
        w.line(indent, '}');
      }
    } else attribute(w, indent, key, value);
  }
}

function labelled(w: Writer, keyword: string, labels: string[], content: () => void): void {
  w.line(0, `${keyword} ${labels.map((l) => quotedLiteral(l)).join(' ')} {`);
  content();
  w.line(0, '}');
  w.blank();
}

/** Resources or data sources of a Terraform JSON document. */
function elements(w: Writer, kind: 'resource' | 'data', section: Json, schemas: ProviderBlocks): void {
  for (const [type, byName] of Object.entries((section ?? {}) as JsonObject)) {
    const schema = schemas[kind][type];
    if (!schema) throw new Error(`no block schema for ${kind} ${type}: run npm run update:aws-blocks (stacks/hcl/aws-blocks.json)`);
    for (const [name, config] of Object.entries(byName as JsonObject)) labelled(w, kind, [type, name], () => body(w, 1, config as JsonObject, schema));
  }
}

function variables(w: Writer, section: Json): void {
  for (const [name, spec] of Object.entries((section ?? {}) as JsonObject)) {
    const v = spec as JsonObject;
    labelled(w, 'variable', [name], () => {
      if (v.description !== undefined) w.line(1, `description = ${quotedLiteral(String(v.description))}`);
      if (v.type !== undefined) w.line(1, `type        = ${String(v.type)}`);
      if ('default' in v) w.line(1, `default     = ${expression(v.default, 1, true)}`);
      if (v.nullable !== undefined) w.line(1, `nullable    = ${String(v.nullable)}`);
      if (v.sensitive !== undefined) w.line(1, `sensitive   = ${String(v.sensitive)}`);
      for (const rule of blocks(v.validation)) {
        w.blank();
        w.line(1, 'validation {');
        attribute(w, 2, 'condition', rule.condition);
        attribute(w, 2, 'error_message', rule.error_message);
        w.line(1, '}');
      }
    });
  }
}

function outputs(w: Writer, section: Json): void {
  for (const [name, spec] of Object.entries((section ?? {}) as JsonObject)) {
    const o = spec as JsonObject;
    labelled(w, 'output', [name], () => {
      if (o.description !== undefined) w.line(1, `description = ${quotedLiteral(String(o.description))}`);
      attribute(w, 1, 'value', o.value);
      if (o.sensitive !== undefined) w.line(1, `sensitive = ${String(o.sensitive)}`);
    });
  }
}

function locals(w: Writer, section: Json): void {
  const entries = Object.entries((section ?? {}) as JsonObject);
  if (!entries.length) return;
  w.line(0, 'locals {');
  for (const [name, value] of entries) attribute(w, 1, name, value);
  w.line(0, '}');
  w.blank();
}

function terraform(w: Writer, section: Json): void {
  if (!section) return;
  const t = section as JsonObject;
  w.line(0, 'terraform {');
  if (t.required_version !== undefined) w.line(1, `required_version = ${quotedLiteral(String(t.required_version))}`);
  if (t.required_providers) {
    w.blank();
    w.line(1, 'required_providers {');
    for (const [name, req] of Object.entries(t.required_providers as JsonObject)) w.line(2, `${name} = ${expression(req, 2, true)}`);
    w.line(1, '}');
  }
  w.line(0, '}');
  w.blank();
}

function moved(w: Writer, section: Json): void {
  for (const m of blocks(section)) {
    w.line(0, 'moved {');
    w.line(1, `from = ${String(m.from)}`);
    w.line(1, `to   = ${String(m.to)}`);
    w.line(0, '}');
    w.blank();
  }
}

/** One HCL file from the sections of a Terraform JSON document, in the order given, with a header comment. */
export function emitHcl(json: JsonObject, schemas: ProviderBlocks, header?: string): string {
  const w = new Writer();
  if (header) {
    for (const line of header.trimEnd().split('\n')) w.line(0, line ? `# ${line}` : '#');
    w.blank();
  }
  for (const [section, value] of Object.entries(json)) {
    switch (section) {
      case 'terraform':
        terraform(w, value);
        break;
      case 'variable':
        variables(w, value);
        break;
      case 'locals':
        locals(w, value);
        break;
      case 'data':
        elements(w, 'data', value, schemas);
        break;
      case 'resource':
        elements(w, 'resource', value, schemas);
        break;
      case 'output':
        outputs(w, value);
        break;
      case 'moved':
        moved(w, value);
        break;
      default:
        throw new Error(`emitHcl: no HCL form for the top-level section "${section}"`);
    }
  }
  return w.text();
}
