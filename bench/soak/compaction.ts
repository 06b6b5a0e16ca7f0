/**
 * The compaction/checkpoint run, once it exists (issue 13): the soak calls
 * it after the redrive and before the checks, so a compacted lake must pass
 * the same checks as the raw one. This is the one call site.
 */
export interface CompactionContext {
  /** The lake bucket and prefix the run compacts. */
  readonly bucket: string;
  readonly prefix: string;
}

export interface CompactionOutcome {
  readonly ran: boolean;
}

export async function runCompaction(_context: CompactionContext): Promise<CompactionOutcome> {
  // TODO(issue 13): call the compaction/checkpoint run here when it lands, and report what it did.
  return { ran: false };
}
