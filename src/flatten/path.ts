/**
 * Leaf paths inside an exploded element: map keys joined with `.`, list
 * positions as `[i]`, e.g. `address.geo.lat` or `tags[1][0]`. Inside key
 * names `\`, `.`, `[` and `]` are escaped with a backslash, and the empty
 * key name is written `\_`, so every key round-trips (an empty name would
 * otherwise make a map whose first key is "" look like a list: `[0]`).
 */

export type PathSegment = { readonly key: string } | { readonly index: number };

const NEEDS_ESCAPE = /[\\.[\]]/;
const ESCAPABLE = /[\\.[\]]/g;

export const EMPTY_KEY = '\\_';

export function escapeKey(key: string): string {
  if (key === '') return EMPTY_KEY;
  return NEEDS_ESCAPE.test(key) ? key.replace(ESCAPABLE, '\\$&') : key;
}

export function childKeyPath(parent: string | null, key: string): string {
  return parent === null ? escapeKey(key) : `${parent}.${escapeKey(key)}`;
}

export function childIndexPath(parent: string | null, index: number): string {
  return parent === null ? `[${index}]` : `${parent}[${index}]`;
}

/** Inverse of the builders above. Throws on text no builder could have produced. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = 0;
  const readIndex = (): void => {
    const close = path.indexOf(']', i);
    const digits = close < 0 ? '' : path.slice(i + 1, close);
    if (!/^(0|[1-9]\d*)$/.test(digits)) throw new Error(`bad list position at offset ${i} in path "${path}"`);
    segments.push({ index: Number(digits) });
    i = close + 1;
  };
  const readKey = (): void => {
    let key = '';
    while (i < path.length) {
      const c = path[i]!;
      if (c === '\\') {
        const next = path[i + 1];
        if (next === '_') {
          // the empty-name marker adds nothing
        } else if (next === '\\' || next === '.' || next === '[' || next === ']') {
          key += next;
        } else {
          throw new Error(`bad escape "\\${next ?? ''}" at offset ${i} in path "${path}"`);
        }
        i += 2;
      } else if (c === '.' || c === '[') {
        break;
      } else {
        key += c;
        i++;
      }
    }
    segments.push({ key });
  };

  if (path[0] === '[') readIndex();
  else readKey();
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      readKey();
    } else if (c === '[') {
      readIndex();
    } else {
      throw new Error(`unexpected "${c}" at offset ${i} in path "${path}"`);
    }
  }
  return segments;
}
