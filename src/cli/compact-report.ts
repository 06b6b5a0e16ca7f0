import type { MaintenanceRequest, MaintenanceResult } from '../actions/maintenance.ts';
import type { MaintenanceSettings } from '../config/pipeline-config.ts';
import { NO_CHECKPOINT } from '../maintenance/checkpoint.ts';
import type { ObjectSet, ViewInputs } from '../maintenance/view-inputs.ts';
import { formatCount } from './progress.ts';
import { textTable } from './text-table.ts';

/**
 * What `ddb-flatten compact` did, for a person (a table) or a program (one
 * JSON object): the days compacted with objects and bytes before and after,
 * the checkpoint, what held it back, and what the current-state view reads
 * before and after the run.
 */

export interface CompactReport {
  /** The rows' location (folder or s3:// prefix) and the state's. */
  readonly location: string;
  readonly state: string;
  readonly now: string;
  readonly request: MaintenanceRequest;
  readonly settings: Pick<MaintenanceSettings, 'maximumRecordAgeSeconds' | 'marginSeconds' | 'lookbackDays'>;
  readonly result: MaintenanceResult;
  readonly view: { readonly before: ViewInputs; readonly after: ViewInputs };
  readonly table: { readonly before: ObjectSet; readonly after: ObjectSet };
}

export function compactReportJson(r: CompactReport): string {
  return `${JSON.stringify(
    {
      location: r.location,
      state: r.state,
      now: r.now,
      closedBefore: r.result.closedBefore,
      engine: r.result.engine,
      days: r.result.days,
      checkpoint: r.result.checkpoint ?? null,
      failed: r.result.failed,
      retention: r.result.retention ?? null,
      view: r.view,
      table: r.table,
    },
    null,
    2,
  )}\n`;
}

const objects = (n: number): string => `${formatCount(n)} object${n === 1 ? '' : 's'}`;
const set = (s: ObjectSet): string => `${objects(s.objects)}, ${formatCount(s.bytes)} bytes`;

/** The days a run compacted, one line each, with a total when there are several (npm start --days prints it too). */
export function daysTable(days: MaintenanceResult['days']): string {
  // Bytes the engine scanned (Athena bills them); the local engine does not count them.
  const scanned = (d: MaintenanceResult['days'][number]): string => (d.bytesScanned !== undefined ? formatCount(d.bytesScanned) : '-');
  const rows: Record<string, string>[] = days.map((d) => ({
    dt: d.dt,
    status: d.status === 'failed' ? `failed: ${d.reason}` : d.status,
    objects: `${formatCount(d.objectsBefore)} → ${formatCount(d.objectsAfter)}`,
    bytes: `${formatCount(d.bytesBefore)} → ${formatCount(d.bytesAfter)}`,
    scanned: scanned(d),
  }));
  const total = (f: (d: MaintenanceResult['days'][number]) => number): number => days.reduce((n, d) => n + f(d), 0);
  if (rows.length > 1) {
    rows.push({
      dt: 'total',
      status: `${days.filter((d) => d.status === 'compacted').length} compacted`,
      objects: `${formatCount(total((d) => d.objectsBefore))} → ${formatCount(total((d) => d.objectsAfter))}`,
      bytes: `${formatCount(total((d) => d.bytesBefore))} → ${formatCount(total((d) => d.bytesAfter))}`,
      scanned: days.some((d) => d.bytesScanned !== undefined) ? formatCount(total((d) => d.bytesScanned ?? 0)) : '-',
    });
  }
  return textTable(['dt', 'status', 'objects', 'bytes', 'scanned'], rows);
}

function checkpointLine(r: CompactReport): string {
  const c = r.result.checkpoint;
  if (!c) return r.request.dt !== undefined ? 'checkpoint: not moved (--dt compacts one day only)' : 'checkpoint: not moved (--no-checkpoint)';
  return checkpointText(c);
}

/** What the checkpoint step did, on one line. */
export function checkpointText(c: NonNullable<MaintenanceResult['checkpoint']>): string {
  const p = c.pointer;
  const where = p.checkpoint === NO_CHECKPOINT ? 'none yet' : `${p.checkpoint} (bound ${p.bound}, ${formatCount(p.parts)} object${p.parts === 1 ? '' : 's'})`;
  const days = c.days.length === 1 ? c.days[0] : `${c.days[0]} … ${c.days[c.days.length - 1]}`;
  switch (c.status) {
    case 'written':
      return `checkpoint: written ${where}: ${formatCount(c.days.length)} day(s) read (${days}) beside the checkpoint before it${c.bytesScanned !== undefined ? `, ${formatCount(c.bytesScanned)} bytes scanned` : ''}; why: ${c.payoff?.why ?? 'an interrupted run had started it'}`;
    case 'deferred':
      return `checkpoint: not rebuilt, ${where}: ${c.payoff?.why}`;
    case 'running':
      return `checkpoint: query ${c.query} still running (${formatCount(c.days.length)} day(s) to ${c.days.at(-1)}); ${where} stays published`;
    case 'failed':
      return `checkpoint: failed (${c.reason}); ${where} stays published, the next run plans it again`;
    default:
      return `checkpoint: already current: ${where}`;
  }
}

export function compactReportText(r: CompactReport): string {
  const { result: m, settings: s } = r;
  const lines = [
    `ddb-flatten compact: ${r.location} (state in ${r.state}) as of ${r.now}`,
    `days before ${m.closedBefore} are closed (record age ${formatCount(s.maximumRecordAgeSeconds)} s + margin ${formatCount(s.marginSeconds)} s after a day's end)`,
    '',
  ];
  if (m.days.length === 0) {
    lines.push(r.request.dt !== undefined ? `dt=${r.request.dt}: nothing there` : `no closed day in the lake (looked at up to ${formatCount(s.lookbackDays)}, newest first)`);
  } else {
    lines.push(daysTable(m.days));
  }
  lines.push('', checkpointLine(r));
  if (m.failed.length) lines.push(`failed (left as it was; the next run retries): ${m.failed.join('; ')}`);
  if (m.retention) {
    const r = m.retention;
    lines.push(
      r.status === 'deleted'
        ? `retention: deleted ${formatCount(r.days.length)} day(s) before ${r.before} (${r.days[0]} … ${r.days.at(-1)}), ${objects(r.objects)}, ${formatCount(r.bytes)} bytes${r.kept.length ? `; kept ${r.kept.length}: ${r.kept.join('; ')}` : ''}`
        : `retention: nothing to delete before ${r.before}${r.kept.length ? `; kept ${r.kept.length}: ${r.kept.join('; ')}` : ''}`,
    );
  }
  if (m.checkpoint) lines.push(`holds: ${m.checkpoint.heldBy.length ? m.checkpoint.heldBy.join('; ') : 'none'}`);
  lines.push(
    `table: ${set(r.table.before)} → ${set(r.table.after)}`,
    `current-state view reads: ${set(r.view.after)} (before the run: ${set(r.view.before)})`,
  );
  return `${lines.join('\n')}\n`;
}
