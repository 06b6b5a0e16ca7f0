import { ELEMENT_NAME_RULES } from '../src/schema/element-views.ts';
import { ELEMENT_KEY_COLUMNS_FORMAT, placeholders, sqlTemplate, VIEWS, type ViewName } from '../src/sql/views.ts';

/**
 * The SQL templates of sql/ as Terraform templates, for the module build
 * where names and column lists are variables. A `{{name}}` placeholder
 * becomes `${<expression>}`; the SQL around it is escaped so Terraform
 * reads it literally. src/sql/views.ts fills the same templates with text;
 * test/module/terraform-validate.test.ts evaluates both and compares them.
 */

/** SQL text as the literal part of a Terraform template: `${` and `%{` would start an interpolation or a directive. */
export function templateLiteral(text: string): string {
  return text.replaceAll('${', '$${').replaceAll('%{', '%%{');
}

/** A Terraform template (the text of a string, without quotes) from an SQL template and one expression per placeholder. */
export function terraformTemplate(template: string, fills: Readonly<Record<string, string>>): string {
  for (const name of placeholders(template)) {
    if (!(name in fills)) throw new Error(`SQL template placeholder {{${name}}} has no Terraform expression (given: ${Object.keys(fills).join(', ')})`);
  }
  return template
    .trim()
    .split(/(\{\{[a-z_]+\}\})/)
    .map((part) => {
      const m = /^\{\{([a-z_]+)\}\}$/.exec(part);
      return m ? `\${${fills[m[1]]}}` : templateLiteral(part);
    })
    .join('');
}

const HCL_ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A quoted HCL string literal: escapes, and `${`/`%{` kept literal. */
export function hclString(text: string): string {
  return `"${templateLiteral(text).replace(/["\\\n\r\t]/g, (c) => HCL_ESCAPES[c])}"`;
}

/** A Terraform template as a quoted HCL string expression (for use inside other expressions). */
export function hclTemplateString(template: string): string {
  // Only the literal characters need escaping: the interpolations are expressions already.
  let out = '';
  let depth = 0;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (depth === 0 && template.startsWith('$${', i)) {
      out += '$${';
      i += 2;
    } else if (depth === 0 && template.startsWith('${', i)) {
      depth = 1;
      out += '${';
      i += 1;
    } else if (depth > 0) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
      out += ch;
    } else {
      out += HCL_ESCAPES[ch] ?? ch;
    }
  }
  return `"${out}"`;
}

/** An HCL value literal for use inside an expression: `{ name = "pk", glue = "string" }`, strings quoted and kept literal. */
export function hclValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(hclValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : hclString(k)} = ${hclValue(v)}`)
      .join(', ')} }`;
  }
  return typeof value === 'string' ? hclString(value) : JSON.stringify(value);
}

/** `"\"<a>\".\"<b>\""`-style SQL name of a relation, from two string expressions. */
export function qualifiedName(database: string, relation: string): string {
  return `format("\\"%s\\".\\"%s\\"", ${database}, ${relation})`;
}

/** The element view's column name of a key path expression (the same rule as elementColumnName). */
export function elementColumnNameExpression(key: string): string {
  return `lower(replace(${key}, "/${ELEMENT_NAME_RULES.replace}/", "_"))`;
}

/** The element view's key columns SQL for a list of key paths (ELEMENT_KEY_COLUMNS_FORMAT per key). */
export function elementKeyColumnsExpression(keys: string): string {
  const literal = `replace(k, "'", "''")`;
  const column = elementColumnNameExpression('k');
  return `join("", [for k in ${keys} : format(${hclString(ELEMENT_KEY_COLUMNS_FORMAT)}, ${literal}, ${column}, ${literal}, ${column})])`;
}

/**
 * The view SQL the Terraform module ships as template files, for
 * templatefile(): each `{{name}}` placeholder of sql/views/<view>.sql becomes
 * the template variable `${name}`. The module reads them with
 * trimspace(templatefile(...)), as src/sql/views.ts trims what it fills.
 */
export const MODULE_TEMPLATES: Readonly<Record<ViewName, string>> = {
  current_state: 'templates/current_state.sql.tftpl',
  expired_items: 'templates/expired_items.sql.tftpl',
  element_view: 'templates/element_view.sql.tftpl',
};

export function moduleTemplateText(view: ViewName): string {
  const template = sqlTemplate(VIEWS[view]);
  return `${terraformTemplate(template, Object.fromEntries(placeholders(template).map((p) => [p, p])))}\n`;
}

/** `trimspace(templatefile("${path.module}/<template>", { name = expression, ... }))`. */
export function templateFileExpression(view: ViewName, variables: Readonly<Record<string, string>>): string {
  const template = sqlTemplate(VIEWS[view]);
  const missing = placeholders(template).filter((p) => !(p in variables));
  if (missing.length) throw new Error(`${MODULE_TEMPLATES[view]}: no value for ${missing.join(', ')}`);
  const vars = placeholders(template).map((p) => `${p} = ${variables[p]}`).join(', ');
  return `trimspace(templatefile("\${path.module}/${MODULE_TEMPLATES[view]}", { ${vars} }))`;
}
