import { ELEMENT_NAME_RULES } from '../src/schema/element-views.ts';
import { ELEMENT_KEY_COLUMNS_FORMAT, placeholders } from '../src/sql/views.ts';

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

/** An HCL value literal (JSON syntax is valid HCL), with template sequences in strings kept literal. */
export function hclValue(value: unknown): string {
  return templateLiteral(JSON.stringify(value));
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
