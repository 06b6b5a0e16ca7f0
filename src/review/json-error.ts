/**
 * Where a text stops being JSON, and what was expected there. JSON.parse
 * says so only for some errors (V8 gives no position for an unexpected
 * token), and a person fixing a file wants the line; a cut-off file ends
 * while a value is still open, which this tells apart from a wrong token.
 */

export interface JsonSyntaxError {
  /** Offset of the first character that is not JSON (text.length when the text ends early). */
  readonly offset: number;
  readonly expected: string;
  /** The text ends while a value is still open. */
  readonly truncated: boolean;
}

class Stop {
  readonly offset: number;
  readonly expected: string;
  constructor(offset: number, expected: string) {
    this.offset = offset;
    this.expected = expected;
  }
}

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const n = text.length;
  let i = 0;
  const space = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expect = (c: string, what: string): void => {
    space();
    if (text[i] !== c) throw new Stop(i, what);
    i++;
  };
  const string = (): void => {
    i++; // opening quote
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) throw new Stop(i, 'a closing quote (control characters must be escaped)');
      i++;
    }
    if (i >= n) throw new Stop(n, 'a closing quote');
    i++;
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0] === '') throw new Stop(i, 'a number');
    i += m[0].length;
  };
  const value = (depth: number): void => {
    space();
    if (i >= n) throw new Stop(n, 'a value');
    if (depth > 10_000) throw new Stop(i, 'less nesting');
    const c = text[i]!;
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') throw new Stop(i, 'a property name in double quotes');
        string();
        expect(':', "':' after a property name");
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else throw new Stop(i, "',' or '}' after a property value");
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else throw new Stop(i, "',' or ']' after an array element");
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) return void (i += word.length);
      // A literal cut off at the end ("tr") is a truncation, not a wrong token.
      if (i + word.length > n && word.startsWith(text.slice(i))) throw new Stop(n, word);
    }
    throw new Stop(i, 'a value');
  };
  try {
    value(0);
    space();
    if (i < n) throw new Stop(i, 'the end of the text after the JSON value');
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { offset: error.offset, expected: error.expected, truncated: error.offset >= n };
  }
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      start = k + 1;
    }
  }
  return { line, column: offset - start + 1 };
}
