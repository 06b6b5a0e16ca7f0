import type { MaintenanceEngine, QueryStatus, UnloadStatement } from '../../src/maintenance/engine.ts';
import { DuckDbEngine } from '../../src/maintenance/duckdb-engine.ts';

/**
 * Maintenance engines for the tests: DuckDB over a lake folder (the real
 * local engine), and a wrapper around it that holds queries RUNNING until
 * released (a query that outlasts an invocation), or fails or cancels them
 * (as Athena can), recording every statement started.
 */

export const lakeEngine = (root: string): DuckDbEngine => new DuckDbEngine({ root, prefix: 'flattened', statePrefix: 'state', carried: ['customer_id'] });

type Outcome = { kind: 'run' | 'empty' } | { kind: 'fail' | 'cancel'; reason: string };

export interface Started {
  readonly id: string;
  readonly token: string;
  readonly statement: UnloadStatement;
}

export class ControlledEngine implements MaintenanceEngine {
  readonly kind = 'athena' as const;
  readonly relations: MaintenanceEngine['relations'];
  readonly started: Started[] = [];
  /** Queries held RUNNING until released. */
  holding = false;
  private readonly inner: DuckDbEngine;
  private readonly held = new Map<string, Started>();
  private readonly done = new Map<string, QueryStatus>();
  private readonly outcomes: Outcome[] = [];
  readonly stopped: string[] = [];

  constructor(root: string) {
    this.inner = lakeEngine(root);
    this.relations = this.inner.relations;
  }

  /**
   * The next started query "succeeds" without reading anything: no output, 0 bytes scanned (Athena
   * over a day outside the table's partition projection range, or a Glue table with the wrong location).
   */
  succeedEmpty(): void {
    this.outcomes.push({ kind: 'empty' });
  }

  /** The next started query fails (FAILED) or is cancelled (CANCELLED) with this reason. */
  failNext(reason: string, kind: 'fail' | 'cancel' = 'fail'): void {
    this.outcomes.push({ kind, reason });
  }

  async start(statement: UnloadStatement, token: string): Promise<string> {
    const again = this.started.find((s) => s.token === token);
    if (again) return again.id;
    const q = { id: `q${this.started.length + 1}`, token, statement };
    this.started.push(q);
    const outcome: Outcome = this.outcomes.shift() ?? { kind: 'run' };
    if (outcome.kind === 'fail' || outcome.kind === 'cancel') this.done.set(q.id, { state: outcome.kind === 'fail' ? 'FAILED' : 'CANCELLED', reason: outcome.reason });
    else if (outcome.kind === 'empty') this.done.set(q.id, { state: 'SUCCEEDED', bytesScanned: 0 });
    else if (this.holding) this.held.set(q.id, q);
    else await this.run(q);
    return q.id;
  }

  /** Lets every held query run to its end. */
  async release(): Promise<void> {
    this.holding = false;
    for (const q of [...this.held.values()]) {
      this.held.delete(q.id);
      await this.run(q);
    }
  }

  private async run(q: Started): Promise<void> {
    await this.inner.start(q.statement, q.token);
    this.done.set(q.id, await this.inner.status(q.token));
  }

  async status(queryId: string): Promise<QueryStatus> {
    if (this.held.has(queryId)) return { state: 'RUNNING' };
    return this.done.get(queryId) ?? { state: 'FAILED', reason: `unknown query ${queryId}` };
  }

  carried(configured: readonly string[]): Promise<string[]> {
    return this.inner.carried(configured);
  }

  async stop(queryId: string): Promise<void> {
    this.stopped.push(queryId);
    if (this.held.delete(queryId)) this.done.set(queryId, { state: 'CANCELLED', reason: 'stopped' });
  }

  close(): void {
    this.inner.close();
  }
}
