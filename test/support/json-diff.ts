/** Where two JSON documents differ: one entry per leaf path (`a.b.c`), with both values. */
export interface JsonDifference {
  readonly path: string;
  readonly left: unknown;
  readonly right: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function jsonDifferences(left: unknown, right: unknown, path: readonly string[] = []): JsonDifference[] {
  if (JSON.stringify(left) === JSON.stringify(right)) return [];
  if (isObject(left) && isObject(right)) {
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    return keys.flatMap((k) => jsonDifferences(left[k], right[k], [...path, k]));
  }
  if (Array.isArray(left) && Array.isArray(right) && left.length === right.length) {
    return left.flatMap((v, i) => jsonDifferences(v, right[i], [...path, String(i)]));
  }
  return [{ path: path.join('.'), left, right }];
}
