/**
 * The checkpoint pointer: which checkpoint the current-state view reads and
 * the first day it does not cover. Its own module, free of the Parquet and
 * sort code, because the construct renders the view from it too (the CDKTF
 * package must not need the maintenance run's dependencies).
 */

export const NO_CHECKPOINT = 'none';
/** The bound of "no checkpoint": before any day, so the view reads every day. */
export const NO_BOUND = '0000-01-01';

export interface CheckpointPointer {
  readonly checkpoint: string;
  /** The first day the checkpoint does not cover (YYYY-MM-DD). */
  readonly bound: string;
  readonly parts: number;
}

/** The pointer's JSON as it is stored: the same bytes every time for the same pointer (Terraform reads it too). */
export function pointerText(p: CheckpointPointer): string {
  return `${JSON.stringify({ checkpoint: p.checkpoint, bound: p.bound, parts: p.parts })}\n`;
}
