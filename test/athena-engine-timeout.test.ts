import { AthenaClient, GetQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AthenaEngine, DML_TIMEOUT_HINT } from '../src/maintenance/athena-engine.ts';

/**
 * A statement Athena cancels at the account's DML query timeout: a fault the stand-in Athena cannot
 * produce (its DuckDB has no quota), so aws-sdk-client-mock answers GetQueryExecution as Athena does.
 * The same statement would fail the same way in every later run, so the reason the run reports (and
 * the MaintenanceFailed error carries) must say what to change: the quota.
 */
const athena = mockClient(AthenaClient);
const engine = new AthenaEngine(new AthenaClient({ region: 'us-east-1' }), { workgroup: 'orders-flatten-maintenance', bucket: 'lake', database: 'orders', table: 'flattened', checkpointsTable: 'checkpoints' });

function answer(state: string, reason: string | undefined, error?: string): void {
  athena.on(GetQueryExecutionCommand).resolves({
    QueryExecution: { QueryExecutionId: 'q-1', Status: { State: state as never, ...(reason ? { StateChangeReason: reason } : {}), ...(error ? { AthenaError: { ErrorMessage: error } } : {}) }, Statistics: { DataScannedInBytes: 5 } },
  });
}

describe('AthenaEngine.status on a statement that timed out', () => {
  afterEach(() => athena.reset());

  it('adds what to do (the DML query timeout quota, up to 240 minutes) to Athena\'s own reason', async () => {
    answer('FAILED', 'Query timeout');
    const status = await engine.status('q-1');
    expect(status).toEqual({ state: 'FAILED', reason: `Query timeout${DML_TIMEOUT_HINT}`, bytesScanned: 5 });
    expect(status.reason).toContain("'DML query timeout' quota");
    expect(status.reason).toContain('240 minutes');
  });

  it('reads the reason from AthenaError when there is no StateChangeReason', async () => {
    answer('FAILED', undefined, 'Query exhausted resources: the query timed out after 30 minutes');
    expect((await engine.status('q-1')).reason).toBe(`Query exhausted resources: the query timed out after 30 minutes${DML_TIMEOUT_HINT}`);
  });

  it('leaves other failures and cancellations as Athena words them', async () => {
    answer('FAILED', "SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved");
    expect((await engine.status('q-1')).reason).toBe("SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved");
    answer('CANCELLED', 'Query cancelled by user');
    expect((await engine.status('q-1')).reason).toBe('Query cancelled by user');
  });
});
