import { isTerminal, type MaintenanceEngine, type QueryStatus } from './engine.ts';

/**
 * How long a run waits for its queries. The function waits within its own
 * invocation (until `deadline`, its remaining time less a reserve for the
 * commit) and then hands the run on to a later invocation, which resumes
 * from the query ids stored in the plans. The CLI and npm start wait until
 * the query ends. Polling backs off from half a second to five: Athena's
 * GetQueryExecution is cheap, and a maintenance statement takes seconds to
 * minutes.
 */

export interface WaitOptions {
  /** Epoch ms after which the run stops waiting (absent: wait until the query ends). */
  readonly deadline?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => number;
}

export type QueryWait = (queryId: string) => Promise<QueryStatus>;

export const POLL = { firstMs: 500, maxMs: 5_000 } as const;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function queryWaiter(engine: Pick<MaintenanceEngine, 'status'>, options: WaitOptions = {}): QueryWait {
  const sleep = options.sleep ?? realSleep;
  const clock = options.clock ?? Date.now;
  return async (queryId) => {
    let interval: number = POLL.firstMs;
    for (;;) {
      const status = await engine.status(queryId);
      if (isTerminal(status)) return status;
      if (options.deadline !== undefined && clock() + interval > options.deadline) return status;
      await sleep(interval);
      interval = Math.min(interval * 2, POLL.maxMs);
    }
  };
}

/** One look at a query, no waiting: how a run starts every day's query before it waits for any. */
export const queryPeek =
  (engine: Pick<MaintenanceEngine, 'status'>): QueryWait =>
  (queryId) =>
    engine.status(queryId);
