/**
 * DynamoDB AttributeValue in its wire (JSON) shape, as found in stream
 * events, export files and low-level SDK responses. B may be a base64 string
 * (wire JSON) or bytes (SDK responses); everything else is exactly the wire.
 */
export type Binary = string | Uint8Array;

export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: Binary }
  | { BOOL: boolean }
  | { NULL: true }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: Binary[] };

export type Item = Record<string, AttributeValue>;

export const TYPE_DESCRIPTORS = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'] as const;
export type TypeDescriptor = (typeof TYPE_DESCRIPTORS)[number];

/** Bad input, with the place it was found (attribute path, file and line when known). */
export class FlattenError extends Error {
  readonly where: string;
  constructor(message: string, where: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'FlattenError';
    this.where = where;
  }
}

/** DynamoDB's number grammar. The text is kept verbatim; this only rejects what DynamoDB would. */
const NUMBER_TEXT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

export function isNumberText(text: unknown): text is string {
  return typeof text === 'string' && NUMBER_TEXT.test(text);
}

export function binaryToBase64(value: Binary): string {
  if (typeof value === 'string') return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

/**
 * The single type descriptor of an AttributeValue, or null when it has none,
 * several or an unknown one. The hot path: no strings are built here.
 */
export function descriptorOf(av: unknown): TypeDescriptor | null {
  if (av === null || typeof av !== 'object') return null;
  let found: string | null = null;
  for (const k in av) {
    if (found !== null) return null;
    found = k;
  }
  switch (found) {
    case 'S': case 'N': case 'M': case 'L': case 'BOOL': case 'NULL': case 'B': case 'SS': case 'NS': case 'BS':
      return found;
    default:
      return null;
  }
}

/** The single type descriptor of an AttributeValue, or a FlattenError naming what is wrong. */
export function typeOf(av: unknown, where: string): TypeDescriptor {
  const fast = descriptorOf(av);
  if (fast !== null && !Array.isArray(av)) return fast;
  if (av === null || typeof av !== 'object' || Array.isArray(av)) {
    throw new FlattenError(`expected an AttributeValue object such as {"S":"x"}, got ${describe(av)}`, where);
  }
  let found: string | undefined;
  for (const k in av) {
    if (found !== undefined) {
      throw new FlattenError(`an AttributeValue has exactly one type descriptor, got ${Object.keys(av).join(', ')}`, where);
    }
    found = k;
  }
  switch (found) {
    case 'S': case 'N': case 'B': case 'BOOL': case 'NULL': case 'M': case 'L': case 'SS': case 'NS': case 'BS':
      return found;
    case undefined:
      throw new FlattenError('empty AttributeValue {} has no type descriptor', where);
    default:
      throw new FlattenError(`unknown type descriptor "${found}" (allowed: ${TYPE_DESCRIPTORS.join(', ')})`, where);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string "${value.slice(0, 40)}…"` : `the string "${value}"`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
