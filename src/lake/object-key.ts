import { createHash } from 'node:crypto';

/**
 * Lake object keys. Only validated configuration (the prefix), the dt
 * partition computed from a timestamp and names built from sequence numbers
 * and hashes ever reach a key: item content never does, so no pk can steer
 * where an object lands.
 */

const DT = /^\d{4}-\d{2}-\d{2}$/;
const NAME = /^[A-Za-z0-9._-]{1,200}$/;

export function partitionKey(prefix: string, dt: string, name: string): string {
  if (!DT.test(dt)) throw new Error(`partition date "${dt}" is not YYYY-MM-DD`);
  if (!NAME.test(name) || name.startsWith('.')) throw new Error(`object name "${name}" has characters outside A-Z a-z 0-9 . _ -`);
  return `${prefix}/dt=${dt}/${name}.parquet`;
}

export function shortHash(...parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * Deterministic name of a stream batch's object: the first and last sequence
 * numbers plus a hash of every record's identity. The same batch redelivered
 * gets the same name and overwrites its own object instead of adding rows.
 */
export function streamBatchName(firstSequence: string, lastSequence: string, recordIdentities: readonly string[]): string {
  return `${firstSequence}-${lastSequence}-${shortHash(...recordIdentities)}`;
}
