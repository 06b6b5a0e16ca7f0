/**
 * Orders DynamoDB number text without ever turning it into a JS number,
 * which would lose digits beyond 15-17 significant places. Used to sort NS
 * members so a set always flattens to the same rows.
 */

interface Decimal {
  readonly sign: -1 | 0 | 1;
  /** Significant digits, no leading or trailing zeros ('' for zero). */
  readonly digits: string;
  /** Power of ten of the first significant digit. */
  readonly magnitude: number;
}

export function parseDecimal(text: string): Decimal {
  let s = text;
  let sign: -1 | 1 = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  let exponent = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exponent = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  const dot = s.indexOf('.');
  const intPart = dot < 0 ? s : s.slice(0, dot);
  const fracPart = dot < 0 ? '' : s.slice(dot + 1);
  const all = intPart + fracPart;
  const firstNonZero = all.search(/[1-9]/);
  if (firstNonZero < 0) return { sign: 0, digits: '', magnitude: 0 };
  const digits = all.slice(firstNonZero).replace(/0+$/, '');
  const magnitude = intPart.length - firstNonZero - 1 + exponent;
  return { sign, digits, magnitude };
}

export function compareNumberText(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x.sign !== y.sign) return x.sign - y.sign;
  if (x.sign === 0) return 0;
  let byAbs: number;
  if (x.magnitude !== y.magnitude) {
    byAbs = x.magnitude < y.magnitude ? -1 : 1;
  } else {
    byAbs = x.digits < y.digits ? -1 : x.digits > y.digits ? 1 : 0;
  }
  return x.sign * byAbs;
}

/** Code-unit order, the same order DuckDB and Trino use for varchar comparison of ASCII text. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** DynamoDB's number limits: 38 significant digits, magnitudes from 1E-130 to below 1E+126. */
export const MAX_SIGNIFICANT_DIGITS = 38;

/** Why number text is outside what DynamoDB can hold, or undefined when it fits. */
export function numberLimitProblem(text: string): string | undefined {
  // Up to 38 characters without an exponent always fit: at most 38 digits, magnitude within 1E-37..1E38.
  if (text.length <= MAX_SIGNIFICANT_DIGITS && text.indexOf('e') < 0 && text.indexOf('E') < 0) return undefined;
  const d = parseDecimal(text);
  if (d.sign === 0) return undefined;
  if (d.digits.length > MAX_SIGNIFICANT_DIGITS) return `has ${d.digits.length} significant digits; DynamoDB numbers have at most ${MAX_SIGNIFICANT_DIGITS}`;
  if (d.magnitude > 125 || d.magnitude < -130) return 'is outside DynamoDB\'s range (1E-130 to 9.9999999999999999999999999999999999999E+125)';
  return undefined;
}
