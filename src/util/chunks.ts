/** The values in consecutive groups of at most `size` (a batch API's limit: DeleteObjects 1,000, BatchWriteItem 25). */
export function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
