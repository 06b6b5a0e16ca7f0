import { createHash } from 'node:crypto';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { parquetColumnText, parquetRowCount } from '../lake/parquet-footer.ts';
import { checkpointObjects, checkpointPrefix, checkpointsRoot, daysBeingCheckpointed, pointerKey, pointerText, readPointer, type CheckpointPointer, type CheckpointSettings } from './checkpoint.ts';
import { CHECKPOINT_ZSTD_LEVEL, compactDay, isDataFile, newNonce, type CompactionContext } from './compaction.ts';
import { copyObjects, sizesByKey } from './copy-objects.ts';
import { queryToken, type MaintenanceEngine } from './engine.ts';
import type { QueryWait } from './query-wait.ts';
import { eraseCheckpointSql, eraseFindDaysSql, erasedRowsSql, type ErasedKey } from './statements.ts';
import { lakeDays } from './view-inputs.ts';
import { keyHashOf, type ActiveErasures } from '../pipeline/erased-keys.ts';

/**
 * Erasure of keys (the right to erasure: GDPR Art. 17, CCPA): every row of
 * the keys written before the request goes from every object of the lake,
 * and every older version of the objects that held one goes from the
 * versioned bucket. The work is statements the engine runs (Athena in AWS):
 *
 * 1. find: one statement lists the days holding such rows (it reads pk, sk,
 *    event_time and the partition only);
 * 2. days: each of those days is rewritten without them, as a compaction
 *    with a filter (compaction.ts: staged, copied in, then the originals
 *    deleted), even when it is already compact;
 * 3. checkpoints: every checkpoint kept is rewritten without them: the
 *    statement's output is copied into the checkpoint's folder, then the old
 *    objects go (between the two, a reader sees the other rows twice, which
 *    the view folds);
 * 4. the quarantine records of the keys, the data files of the DynamoDB
 *    exports (the backfills' input, whose rows the lake already holds; the
 *    erasure waits while a backfill is in flight) and the Athena query
 *    results (a query's result can hold any value) are deleted;
 * 5. versions: every noncurrent version and delete marker under the days it
 *    rewrote, under days deleted whole, and under the state, quarantine,
 *    export and query-result prefixes is deleted for good (DeleteObjects
 *    with VersionId: no lifecycle rule waits, and S3 is strongly consistent,
 *    so no later GET or LIST returns them).
 *
 * A record of the keys older than the request can still arrive after it (a
 * batch retried for up to the trigger's maximum record age, a redrive while
 * the stream keeps records, 24 hours): the erasure stays open until then and
 * sweeps again (a second pass of the same steps), so it cannot bring erased
 * history back. A record newer than the request is new data and stays.
 *
 * Every step is idempotent and the plan records where it is, so a crash at
 * any point leaves a state the next invocation completes. The plan holds the
 * keys while the erasure runs (the state prefix is the function's own); the
 * audit record holds only their SHA-256 hashes, and the plan and every
 * version of it go at the end.
 */

export interface ErasureSettings extends CheckpointSettings {
  readonly quarantinePrefix: string;
  readonly exportPrefix: string;
  /** The Athena query results (the lake workgroup's and the maintenance's), when the function knows them. */
  readonly athenaResultsPrefix?: string;
  readonly maximumRecordAgeSeconds: number;
  readonly marginSeconds: number;
}

type Step = 'find' | 'days' | 'checkpoints' | 'quarantine' | 'exports' | 'results' | 'versions' | 'wait' | 'done';

export interface ErasureCounts {
  readonly daysRewritten: number;
  readonly checkpointsRewritten: number;
  readonly quarantineDeleted: number;
  readonly exportFilesDeleted: number;
  readonly resultsDeleted: number;
  readonly versionsDeleted: number;
}

export interface ErasurePlan {
  readonly version: 1;
  readonly id: string;
  /** The keys themselves: needed until the last pass; the plan and its versions go at the end. */
  readonly keys: readonly ErasedKey[];
  readonly keyHashes: readonly string[];
  /** Rows of the keys written before this (epoch ms: the request) are erased; later ones are new data. */
  readonly cutoff: number;
  readonly requested: string;
  /** When no record older than the cutoff can arrive any more: the second pass runs from then on. */
  readonly sweepAfter: number;
  readonly pass: 1 | 2;
  readonly step: Step;
  readonly nonce: string;
  readonly findQuery?: string;
  readonly days?: readonly string[];
  readonly daysDone: readonly string[];
  readonly checkpoints?: readonly string[];
  readonly checkpointsDone: readonly string[];
  readonly swap?: { readonly checkpoint: string; readonly old: readonly string[]; readonly query?: string; readonly staged?: readonly StoredObject[]; readonly copied?: boolean };
  readonly counts: ErasureCounts;
  /** Objects that held erased rows and were replaced or deleted (the first 1,000), for the audit. */
  readonly rewritten: readonly string[];
}

/** The audit record: who asked (the keys' hashes only), what was rewritten, when, and how it ended. */
export interface ErasureAudit {
  readonly id: string;
  readonly keyHashes: readonly string[];
  readonly requested: string;
  readonly cutoff: string;
  readonly status: 'in-progress' | 'first-pass-done' | 'complete';
  readonly pass: 1 | 2;
  readonly sweepAfter: string;
  readonly counts: ErasureCounts;
  readonly rewritten: readonly string[];
  readonly updated: string;
  readonly completed?: string;
}

export interface ErasureResult {
  readonly erasure: string;
  readonly status: 'running' | 'waiting' | 'first-pass-done' | 'complete' | 'failed';
  readonly step: Step;
  readonly pass: 1 | 2;
  readonly keyHashes: readonly string[];
  readonly counts: ErasureCounts;
  readonly sweepAfter: string;
  readonly reason?: string;
}

export interface ErasureContext {
  readonly store: LakeStore;
  readonly engine: MaintenanceEngine;
  readonly settings: ErasureSettings;
  readonly wait: QueryWait;
  readonly now: () => number;
  /** Whether a backfill is in flight: its export files are still to be flattened (they hold the keys' old rows). */
  readonly backfillInFlight?: () => Promise<boolean>;
  /** Moves the view's pointer (its SSM parameter) when the current checkpoint's objects change. */
  readonly onPublished?: (pointer: CheckpointPointer) => Promise<void>;
  /** Whether the invocation has time to start another copy (absent: always); the next invocation resumes. */
  readonly hasTime?: () => boolean;
}

/** DynamoDB Streams keeps a record 24 hours: a redrive can re-read one that long after it was written. */
export const STREAM_RETENTION_SECONDS = 86_400;
const NO_COUNTS: ErasureCounts = { daysRewritten: 0, checkpointsRewritten: 0, quarantineDeleted: 0, exportFilesDeleted: 0, resultsDeleted: 0, versionsDeleted: 0 };
const MAX_LISTED = 1_000;

const root = (s: Pick<ErasureSettings, 'statePrefix'>): string => `${s.statePrefix}/erasures/`;
export const erasurePlanKey = (s: Pick<ErasureSettings, 'statePrefix'>, id: string): string => `${root(s)}${id}.json`;
export const erasureAuditKey = (s: Pick<ErasureSettings, 'statePrefix'>, id: string): string => `${root(s)}audit/${id}.json`;
const workDir = (s: Pick<ErasureSettings, 'statePrefix'>, plan: Pick<ErasurePlan, 'id' | 'nonce'>): string => `${root(s)}${plan.id}/${plan.nonce}/`;
const PLAN_FILE = /\/erasures\/(\d{8}T\d{6}-[0-9a-f]{16})\.json$/;

/** The hash the audit names a key by (and the stream handler knows it by): SHA-256 of pk, a NUL, and sk (empty without one). */
export const keyHash = (k: ErasedKey): string => keyHashOf(k.pk, k.sk);

export const activeErasuresKey = (s: Pick<ErasureSettings, 'statePrefix'>): string => `${root(s)}active.json`;

/**
 * The list the stream handler drops erased history by (src/pipeline/erased-keys.ts): every open
 * erasure's key hashes and cutoff, written again from the plans (so it is never out of step with them
 * for long, whatever crashed).
 */
async function syncActive(store: LakeStore, s: ErasureSettings): Promise<void> {
  const erasures = (await openErasures(store, s)).map((p) => ({ id: p.id, cutoff: p.cutoff, keyHashes: p.keyHashes }));
  const active: ActiveErasures = { erasures };
  const text = JSON.stringify(active);
  if (Buffer.from((await store.read(activeErasuresKey(s))) ?? new Uint8Array()).toString('utf8') !== text) await store.write(activeErasuresKey(s), text, 'application/json');
}

const json = (bytes: Uint8Array | undefined): unknown => (bytes === undefined ? undefined : JSON.parse(Buffer.from(bytes).toString('utf8')));
const add = (c: ErasureCounts, more: Partial<ErasureCounts>): ErasureCounts => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v + (more[k as keyof ErasureCounts] ?? 0)])) as unknown as ErasureCounts;
const noted = (list: readonly string[], more: readonly string[]): string[] => [...new Set([...list, ...more])].slice(0, MAX_LISTED);

/** A new erasure of `keys`, asked for at `now`: its plan and its audit record are stored, nothing else changes yet. */
export async function planErasure(ctx: Pick<ErasureContext, 'store' | 'settings'>, keys: readonly ErasedKey[], now: number): Promise<ErasurePlan> {
  if (keys.length === 0) throw new Error('an erasure needs at least one key');
  const s = ctx.settings;
  const keyHashes = [...new Set(keys.map(keyHash))].sort();
  const nonce = newNonce();
  const id = `${new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${createHash('sha256').update([...keyHashes, nonce].join()).digest('hex').slice(0, 16)}`;
  const wait = Math.max(s.maximumRecordAgeSeconds, STREAM_RETENTION_SECONDS) + s.marginSeconds;
  const plan: ErasurePlan = {
    version: 1,
    id,
    keys,
    keyHashes,
    cutoff: now,
    requested: new Date(now).toISOString(),
    sweepAfter: now + wait * 1000,
    pass: 1,
    step: 'find',
    nonce,
    daysDone: [],
    checkpointsDone: [],
    counts: NO_COUNTS,
    rewritten: [],
  };
  await savePlan(ctx.store, s, plan, now);
  await syncActive(ctx.store, s);
  return plan;
}

async function savePlan(store: LakeStore, s: ErasureSettings, plan: ErasurePlan, now: number, completed?: number): Promise<void> {
  await store.write(erasurePlanKey(s, plan.id), JSON.stringify(plan), 'application/json');
  await writeAudit(store, s, plan, now, completed);
}

async function writeAudit(store: LakeStore, s: ErasureSettings, plan: ErasurePlan, now: number, completed?: number): Promise<void> {
  const audit: ErasureAudit = {
    id: plan.id,
    keyHashes: plan.keyHashes,
    requested: plan.requested,
    cutoff: new Date(plan.cutoff).toISOString(),
    status: completed !== undefined ? 'complete' : plan.step === 'wait' ? 'first-pass-done' : 'in-progress',
    pass: plan.pass,
    sweepAfter: new Date(plan.sweepAfter).toISOString(),
    counts: plan.counts,
    rewritten: plan.rewritten,
    updated: new Date(now).toISOString(),
    ...(completed !== undefined ? { completed: new Date(completed).toISOString() } : {}),
  };
  await store.write(erasureAuditKey(s, plan.id), `${JSON.stringify(audit, null, 2)}\n`, 'application/json');
}

/** The erasures still open (first pass or waiting for their sweep). */
export async function openErasures(store: LakeStore, s: Pick<ErasureSettings, 'statePrefix'>): Promise<ErasurePlan[]> {
  const plans: ErasurePlan[] = [];
  for (const o of (await store.list(root(s))).filter((x) => PLAN_FILE.test(x.key) && !x.key.includes('/audit/'))) {
    const plan = json(await store.read(o.key)) as ErasurePlan | undefined;
    if (plan?.version === 1) plans.push(plan);
  }
  return plans;
}

type Progress = { status: 'next'; plan: ErasurePlan } | { status: 'running' | 'waiting' | 'failed'; plan: ErasurePlan; reason?: string };

/**
 * Takes an erasure as far as it goes now. Returns when it must wait (a
 * statement still running, a day's compaction in flight, a backfill in
 * flight, the sweep not due yet), fails (a statement failed: nothing it
 * would have changed is changed; the next run starts that step again), or
 * is complete.
 */
export async function advanceErasure(ctx: ErasureContext, stored: ErasurePlan): Promise<ErasureResult> {
  let plan = stored;
  const s = ctx.settings;
  await syncActive(ctx.store, s);
  const result = (status: ErasureResult['status'], reason?: string): ErasureResult => ({
    erasure: plan.id,
    status,
    step: plan.step,
    pass: plan.pass,
    keyHashes: plan.keyHashes,
    counts: plan.counts,
    sweepAfter: new Date(plan.sweepAfter).toISOString(),
    ...(reason ? { reason } : {}),
  });
  for (;;) {
    if (plan.step === 'done') {
      // A crash between the last save and the end: finish it now.
      await finish(ctx, plan);
      return result('complete');
    }
    if (plan.step === 'wait') {
      if (ctx.now() < plan.sweepAfter) return result('first-pass-done');
      plan = { ...plan, pass: 2, step: 'find', nonce: newNonce(), findQuery: undefined, days: undefined, daysDone: [], checkpoints: undefined, checkpointsDone: [], swap: undefined };
      await savePlan(ctx.store, s, plan, ctx.now());
    }
    const step = await STEPS[plan.step as Exclude<Step, 'wait' | 'done'>](ctx, plan);
    plan = step.plan;
    await savePlan(ctx.store, s, plan, ctx.now());
    if (step.status === 'running' || step.status === 'waiting') return result(step.status, step.reason);
    if (step.status === 'failed') return result('failed', step.reason);
    if (plan.step === 'done') {
      await finish(ctx, plan);
      return result('complete');
    }
    if (plan.step === 'wait') return result('first-pass-done');
  }
}

const next = (plan: ErasurePlan, step: Step, more: Partial<ErasurePlan> = {}): Progress => ({ status: 'next', plan: { ...plan, ...more, step } });

const STEPS: Record<Exclude<Step, 'wait' | 'done'>, (ctx: ErasureContext, plan: ErasurePlan) => Promise<Progress>> = {
  async find(ctx, plan) {
    const s = ctx.settings;
    const erased = erasedRowsSql(plan.keys, plan.cutoff);
    const destination = `${workDir(s, plan)}find/`;
    let p = plan;
    if (!p.findQuery) {
      const statement = { select: eraseFindDaysSql(ctx.engine.relations, erased), destination, zstdLevel: 3, targetBytes: s.targetBytes };
      p = { ...p, findQuery: await ctx.engine.start(statement, queryToken('erasure', p.id, p.pass, p.nonce, 'find')) };
      await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
    }
    const status = await ctx.wait(p.findQuery!);
    if (status.state === 'QUEUED' || status.state === 'RUNNING') return { status: 'running', plan: p };
    if (status.state !== 'SUCCEEDED') {
      await ctx.store.delete((await ctx.store.list(destination)).map((o) => o.key));
      return { status: 'failed', plan: { ...p, findQuery: undefined, nonce: newNonce() }, reason: `the statement finding the days failed: ${status.state}: ${status.reason ?? 'no reason given'}` };
    }
    const files = (await ctx.store.list(destination)).filter((o) => isDataFile(o.key));
    const days = new Set<string>();
    for (const f of files) for (const d of await parquetColumnText(ctx.store, f, 'dt')) if (d) days.add(d);
    await ctx.store.delete(files.map((o) => o.key));
    return next(p, 'days', { days: [...days].sort() });
  },

  async days(ctx, plan) {
    const s = ctx.settings;
    const exclude = erasedRowsSql(plan.keys, plan.cutoff);
    // A day a checkpoint query in flight reads waits for it, as a compaction does.
    const reading = await daysBeingCheckpointed(ctx.store, s);
    const compaction: CompactionContext = { store: ctx.store, engine: ctx.engine, settings: s, wait: ctx.wait, checkpointReads: async (dt) => reading.has(dt), plan: false, ...(ctx.hasTime ? { hasTime: ctx.hasTime } : {}) };
    let p = plan;
    for (const dt of (p.days ?? []).filter((d) => !p.daysDone.includes(d))) {
      const before = (await ctx.store.list(`${s.dataPrefix}/dt=${dt}/`)).map((o) => o.key);
      const r = await compactDay(compaction, dt, { exclude, erasure: p.id });
      if (r.status === 'running' || r.status === 'waiting') return { status: r.status, plan: p, reason: `the rewrite of ${dt}: ${r.status}` };
      if (r.status === 'failed') return { status: 'failed', plan: p, reason: `the rewrite of ${dt} failed: ${r.reason}` };
      p = { ...p, daysDone: [...p.daysDone, dt], counts: add(p.counts, { daysRewritten: 1 }), rewritten: noted(p.rewritten, before) };
      await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
    }
    const ids = (await ctx.store.folders(checkpointsRoot(s))).filter((f) => f.startsWith('checkpoint=')).map((f) => f.slice('checkpoint='.length));
    return next(p, 'checkpoints', { checkpoints: ids });
  },

  async checkpoints(ctx, plan) {
    const s = ctx.settings;
    const erased = erasedRowsSql(plan.keys, plan.cutoff);
    let p = plan;
    for (const id of (p.checkpoints ?? []).filter((c) => !p.checkpointsDone.includes(c))) {
      const staging = `${workDir(s, p)}checkpoint=${id}/`;
      if (p.swap?.checkpoint !== id) {
        const old = (await checkpointObjects(ctx.store, s, id)).map((o) => o.key);
        p = { ...p, swap: { checkpoint: id, old } };
        await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
      }
      let swap = p.swap!;
      if (swap.old.length > 0 && !swap.staged) {
        if (!swap.query) {
          const statement = { select: eraseCheckpointSql(ctx.engine.relations, s.carried, id, erased), destination: staging, zstdLevel: CHECKPOINT_ZSTD_LEVEL, targetBytes: s.targetBytes };
          swap = { ...swap, query: await ctx.engine.start(statement, queryToken('erasure', p.id, p.pass, p.nonce, id)) };
          p = { ...p, swap };
          await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
        }
        const status = await ctx.wait(swap.query!);
        if (status.state === 'QUEUED' || status.state === 'RUNNING') return { status: 'running', plan: p };
        if (status.state !== 'SUCCEEDED') {
          await ctx.store.delete((await ctx.store.list(staging)).map((o) => o.key));
          return { status: 'failed', plan: { ...p, swap: undefined, nonce: newNonce() }, reason: `the rewrite of checkpoint ${id} failed: ${status.state}: ${status.reason ?? 'no reason given'}` };
        }
        const staged = (await ctx.store.list(staging)).filter((o) => isDataFile(o.key));
        const rows = async (objects: readonly StoredObject[]): Promise<number> => (await Promise.all(objects.map((o) => parquetRowCount(ctx.store, o)))).reduce((n, r) => n + r, 0);
        const oldObjects = (await checkpointObjects(ctx.store, s, id)).filter((o) => swap.old.includes(o.key));
        if ((await rows(staged)) === (await rows(oldObjects))) {
          // No row of the keys in this checkpoint: it stays as it is.
          await ctx.store.delete(staged.map((o) => o.key));
          p = { ...p, swap: undefined, checkpointsDone: [...p.checkpointsDone, id] };
          await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
          continue;
        }
        swap = { ...swap, staged };
        p = { ...p, swap };
        await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
      }
      // The new objects in first (names of this erasure: never one of the old ones), recorded as copied
      // before anything goes (the staged ones are the sources of the copies), then the old ones out.
      const written = (swap.staged ?? []).map((o, i) => ({ from: o, to: `${checkpointPrefix(s, id)}erased-${p.id}-${p.pass}-${String(i).padStart(4, '0')}.parquet` }));
      if (!swap.copied) {
        if (!(await copyObjects(ctx.store, written, sizesByKey(await checkpointObjects(ctx.store, s, id)), ctx.hasTime))) return { status: 'running', plan: p };
        swap = { ...swap, copied: true };
        p = { ...p, swap };
        await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
      }
      await ctx.store.delete(swap.old.filter((k) => !written.some((w) => w.to === k)));
      await ctx.store.delete((await ctx.store.list(staging)).map((o) => o.key));
      const pointer = await readPointer(ctx.store, s);
      if (pointer.checkpoint === id) {
        const moved = { ...pointer, parts: (await checkpointObjects(ctx.store, s, id)).length };
        await ctx.store.write(pointerKey(s), pointerText(moved), 'application/json');
        await ctx.onPublished?.(moved);
      }
      p = { ...p, swap: undefined, checkpointsDone: [...p.checkpointsDone, id], counts: add(p.counts, { checkpointsRewritten: swap.old.length ? 1 : 0 }), rewritten: noted(p.rewritten, swap.old) };
      await ctx.store.write(erasurePlanKey(s, p.id), JSON.stringify(p), 'application/json');
    }
    return next(p, 'quarantine');
  },

  async quarantine(ctx, plan) {
    const s = ctx.settings;
    const doomed: string[] = [];
    for (const o of await ctx.store.list(`${s.quarantinePrefix}/`)) {
      const text = Buffer.from((await ctx.store.read(o.key)) ?? new Uint8Array()).toString('utf8');
      if (quarantineHolds(text, plan.keys)) doomed.push(o.key);
    }
    await ctx.store.delete(doomed);
    return next(plan, 'exports', { counts: add(plan.counts, { quarantineDeleted: doomed.length }), rewritten: noted(plan.rewritten, doomed) });
  },

  async exports(ctx, plan) {
    const s = ctx.settings;
    // An export still being flattened would write the keys' old rows again: the erasure waits for it.
    if (await ctx.backfillInFlight?.()) return { status: 'waiting', plan, reason: 'a backfill is in flight: its export files hold the keys and are still to be flattened' };
    // The data files of a finished export are the backfill's input: the lake holds their rows. They hold
    // whole items (the keys' too), so they go; the manifests and markers (no item data) stay.
    const files = (await ctx.store.list(`${s.exportPrefix}/`)).filter((o) => /\/data\/[^/]+$/.test(o.key));
    await ctx.store.delete(files.map((o) => o.key));
    return next(plan, 'results', { counts: add(plan.counts, { exportFilesDeleted: files.length }), rewritten: noted(plan.rewritten, files.map((o) => o.key)) });
  },

  async results(ctx, plan) {
    const s = ctx.settings;
    if (!s.athenaResultsPrefix) return next(plan, 'versions');
    // A query's result can hold any value of the lake: the results of the queries so far go.
    const files = await ctx.store.list(`${s.athenaResultsPrefix}/`);
    await ctx.store.delete(files.map((o) => o.key));
    return next(plan, 'versions', { counts: add(plan.counts, { resultsDeleted: files.length }) });
  },

  async versions(ctx, plan) {
    const deleted = await purgeVersions(ctx, plan);
    const more = { counts: add(plan.counts, { versionsDeleted: deleted }) };
    return plan.pass === 1 ? next(plan, 'wait', more) : next(plan, 'done', more);
  },
};

/** Whether a quarantined record (its JSON text) names one of the keys: by its Keys, or, when those cannot be read, by the key's text anywhere in it. */
function quarantineHolds(text: string, keys: readonly ErasedKey[]): boolean {
  let record: { record?: { dynamodb?: { Keys?: Record<string, Record<string, unknown>> } } } | undefined;
  try {
    record = JSON.parse(text);
  } catch {
    record = undefined;
  }
  const values = Object.values(record?.record?.dynamodb?.Keys ?? {}).map((av) => String(Object.values(av ?? {})[0] ?? ''));
  if (values.length > 0) return keys.some((k) => values.includes(k.pk) && (k.sk === undefined || values.includes(k.sk)));
  // A record too malformed to read its keys: conservative, any mention of the pk.
  return keys.some((k) => text.includes(JSON.stringify(k.pk)));
}

/**
 * Deletes every noncurrent version (and delete marker) where an erased row
 * can have been: the days it rewrote and the days deleted whole (a day with
 * versions but no current object), and the state, quarantine, export and
 * query-result prefixes. Current objects are left as they are.
 */
async function purgeVersions(ctx: ErasureContext, plan: ErasurePlan): Promise<number> {
  const { store } = ctx;
  const s = ctx.settings;
  if (!store.listVersions || !store.deleteVersions) return 0;
  const current = new Set(await lakeDays(store, s));
  const withVersions = new Set((await store.listVersions(`${s.dataPrefix}/dt=`)).map((v) => /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(v.key)?.[1]).filter((d): d is string => d !== undefined));
  const days = [...new Set([...(plan.days ?? []), ...[...withVersions].filter((d) => !current.has(d))])].sort();
  const prefixes = [...days.map((d) => `${s.dataPrefix}/dt=${d}/`), `${s.statePrefix}/`, `${s.quarantinePrefix}/`, `${s.exportPrefix}/`, ...(s.athenaResultsPrefix ? [`${s.athenaResultsPrefix}/`] : [])];
  let n = 0;
  for (const prefix of prefixes) {
    const versions = await store.listVersions(prefix);
    // Older versions first, then delete markers: removing a marker before the versions under it would
    // make the newest of them current again.
    const old = versions.filter((v) => !v.latest && !v.deleteMarker);
    const markers = versions.filter((v) => v.deleteMarker);
    await store.deleteVersions(old);
    await store.deleteVersions(markers);
    n += old.length + markers.length;
  }
  return n;
}

/** The end of the last pass: the plan (the only place the keys were) and every version of it go; the audit record stays. */
async function finish(ctx: ErasureContext, plan: ErasurePlan): Promise<void> {
  const s = ctx.settings;
  const now = ctx.now();
  await writeAudit(ctx.store, s, plan, now, now);
  await ctx.store.delete((await ctx.store.list(`${root(s)}${plan.id}/`)).map((o) => o.key));
  await ctx.store.delete([erasurePlanKey(s, plan.id)]);
  await syncActive(ctx.store, s);
  if (ctx.store.listVersions && ctx.store.deleteVersions) {
    const versions = await ctx.store.listVersions(`${root(s)}${plan.id}`);
    await ctx.store.deleteVersions(versions.filter((v) => !v.deleteMarker));
    await ctx.store.deleteVersions(versions.filter((v) => v.deleteMarker));
  }
}

