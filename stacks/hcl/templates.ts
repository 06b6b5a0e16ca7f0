/**
 * Terraform's template strings, as they appear in Terraform JSON (every
 * string value is a template) and as they must be written in HCL: the
 * literal parts escaped for a quoted string or a heredoc, the `${...}`
 * interpolations and `%{...}` directives copied as they are (they are HCL
 * expressions already).
 */

export type TemplatePart = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'interpolation' | 'directive'; readonly text: string };

/** Index just past the quoted string that starts at `i` (an HCL quoted template, possibly with nested interpolations). */
function skipQuoted(text: string, i: number): number {
  let k = i + 1;
  while (k < text.length) {
    const ch = text[k];
    if (ch === '\\') k += 2;
    else if (ch === '"') return k + 1;
    else if ((ch === '$' || ch === '%') && text[k + 1] === ch && text[k + 2] === '{') k += 3; // $${ / %%{: literal
    else if ((ch === '$' || ch === '%') && text[k + 1] === '{') k = matchBrace(text, k + 1) + 1;
    else k += 1;
  }
  throw new Error(`unterminated string in Terraform expression: ${text.slice(i, i + 80)}`);
}

/** Index of the `}` closing the `{` at `open`, skipping nested brackets and quoted strings. */
export function matchBrace(text: string, open: number): number {
  let depth = 0;
  let k = open;
  while (k < text.length) {
    const ch = text[k];
    if (ch === '"') {
      k = skipQuoted(text, k);
      continue;
    }
    if (ch === '{' || ch === '[' || ch === '(') depth++;
    else if (ch === '}' || ch === ']' || ch === ')') {
      depth--;
      if (depth === 0) return k;
    }
    k++;
  }
  throw new Error(`unbalanced braces in Terraform template: ${text.slice(open, open + 80)}`);
}

/** Splits a template into literal text (escapes `$${`/`%%{` kept as written) and interpolations/directives. */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if ((ch === '$' || ch === '%') && text[i + 1] === ch && text[i + 2] === '{') {
      literal += text.slice(i, i + 3); // the escape: stays an escape in HCL
      i += 3;
    } else if ((ch === '$' || ch === '%') && text[i + 1] === '{') {
      const end = matchBrace(text, i + 1);
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
      parts.push({ kind: ch === '$' ? 'interpolation' : 'directive', text: text.slice(i, end + 1) });
      i = end + 1;
    } else {
      literal += ch;
      i += 1;
    }
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  return parts;
}

/** The expression of a template that is exactly one interpolation (`${expr}`), else undefined. */
export function soleInterpolation(text: string): string | undefined {
  const parts = parseTemplate(text);
  if (parts.length !== 1 || parts[0].kind !== 'interpolation') return undefined;
  const inner = parts[0].text.slice(2, -1);
  // `${~ expr ~}` strip markers are not used by this project.
  return inner.trim();
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeLiteral(text: string): string {
  return text.replace(/[\\"\n\r\t\u0000-\u001f]/g, (ch) => ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A template as a quoted HCL string. */
export function quotedTemplate(text: string): string {
  return `"${parseTemplate(text)
    .map((p) => (p.kind === 'literal' ? escapeLiteral(p.text) : p.text))
    .join('')}"`;
}

/** A plain string (no interpolation meant, e.g. a variable default) as a quoted HCL string. */
export function quotedLiteral(text: string): string {
  return `"${escapeLiteral(text).replaceAll('${', '$${').replaceAll('%{', '%%{')}"`;
}

/**
 * A multi-line template as an indented heredoc (`<<-EOT`), whose value is
 * the same string: Terraform removes the common indentation, and a heredoc
 * always ends with a newline, so a string without one is wrapped in chomp().
 */
export function heredocTemplate(text: string, indent: string): string | undefined {
  const parts = parseTemplate(text);
  // Heredoc content must not need escapes: no carriage returns, no line that is the marker itself.
  if (/[\r\u0000-\u0008\u000b-\u001f]/.test(text) || /^\s*EOT\s*$/m.test(text)) return undefined;
  if (parts.some((p) => p.kind !== 'literal' && p.text.includes('\n'))) return undefined;
  const trailing = text.endsWith('\n');
  const body = trailing ? text.slice(0, -1) : text;
  // Lines that start with spaces keep them; every line gets the block's indentation on top.
  const raw = body.split('\n');
  // `<<-` removes the smallest indentation of the non-empty lines: if every line of the text is indented, that would eat into it.
  if (raw.filter((l) => l.length).every((l) => /^\s/.test(l))) return undefined;
  const lines = raw.map((line) => (line.length ? `${indent}  ${line}` : ''));
  const heredoc = `<<-EOT\n${lines.join('\n')}\n${indent}EOT`;
  return trailing ? heredoc : `chomp(${heredoc}\n${indent})`;
}
