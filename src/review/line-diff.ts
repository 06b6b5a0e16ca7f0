/**
 * A unified diff of two texts, line by line (longest common subsequence),
 * small enough to own: view SQL is tens of lines, so the quadratic table
 * costs nothing, and no dependency is needed for it.
 */

export interface DiffLine {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** Every line of `before` and `after`, marked kept, removed or added, in order. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push({ op: '+', text: b[j]! });
      j++;
    } else {
      out.push({ op: '-', text: a[i]! });
      i++;
    }
  }
  // Removals before additions within a run of changes, as diff(1) shows them.
  for (let k = 0; k < out.length; ) {
    if (out[k]!.op === ' ') {
      k++;
      continue;
    }
    let end = k;
    while (end < out.length && out[end]!.op !== ' ') end++;
    const run = out.slice(k, end);
    out.splice(k, run.length, ...run.filter((l) => l.op === '-'), ...run.filter((l) => l.op === '+'));
    k = end;
  }
  return out;
}

/**
 * The unified diff text (`@@ -a,b +c,d @@` hunks with `context` lines
 * around each change), without file headers; '' when the texts are equal.
 */
export function unifiedDiff(before: string, after: string, context = 3): string {
  const lines = diffLines(before, after);
  const changed = lines.map((l, k) => (l.op === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  // Group changes whose context windows touch into one hunk.
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const start = Math.max(0, k - context);
    const end = Math.min(lines.length, k + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  const out: string[] = [];
  for (const [start, end] of hunks) {
    // Line numbers (1-based) of the hunk's first line in each text.
    let oldLine = 1;
    let newLine = 1;
    for (let k = 0; k < start; k++) {
      if (lines[k]!.op !== '+') oldLine++;
      if (lines[k]!.op !== '-') newLine++;
    }
    const body = lines.slice(start, end);
    const oldCount = body.filter((l) => l.op !== '+').length;
    const newCount = body.filter((l) => l.op !== '-').length;
    out.push(`@@ -${oldCount ? oldLine : oldLine - 1},${oldCount} +${newCount ? newLine : newLine - 1},${newCount} @@`);
    for (const l of body) out.push(`${l.op}${l.text}`);
  }
  return out.join('\n');
}
