import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Lambda's asynchronous invocations, as the maintenance run meets them: the
 * schedule invokes {"action":"compact"} with InvocationType Event, and the
 * run hands the tasks of a split day or checkpoint to its own alias the
 * same way (lambdaDispatcher). What the soak keeps of Lambda's behaviour,
 * as the module configures it (aws_lambda_function_event_invoke_config on
 * the alias: maximum_retry_attempts 2, on_failure to the DLQ):
 *
 * - Invoke answers 202 at once; the event runs later, in its own
 *   invocation, concurrently with others (up to a concurrency limit, as
 *   reserved concurrency or the account's limit would queue them), and in
 *   no particular order: a free slot goes to any waiting event or retry
 *   (`pick`), not to the first accepted;
 * - a function error or a timeout is retried twice (Lambda waits about 1
 *   and 2 minutes: the clock the attempt sees moves on by that much), each
 *   attempt in a fresh execution environment, since a crash or timeout
 *   resets the runtime;
 * - after the last attempt, the event goes to the on-failure destination
 *   in Lambda's record shape (condition RetriesExhausted).
 *
 * EventBridge Scheduler's own retry policy on the schedule (2 retries)
 * covers failures to deliver the Invoke, which never happen here: with an
 * asynchronous target, a failed run is retried by the policy above.
 *
 * The Invoke API is served over HTTP (POST /2015-03-31/functions/{name}/invocations)
 * so the function's real LambdaClient and dispatcher make the call.
 */

export const ASYNC_RETRIES = 2;
/** Lambda's delays before the retries of an asynchronous event (about 1, then 2 minutes). */
const RETRY_DELAY_MS = [60_000, 120_000] as const;

export interface AttemptOutcome {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** One attempt of an event, in a fresh environment: resolves with its outcome (it never rejects). */
export type RunAttempt = (event: AsyncEvent, attempt: number, clockMs: number) => Promise<AttemptOutcome>;

export interface AsyncEvent {
  /** The order in which Lambda accepted the event (0, 1, ...). */
  readonly id: number;
  readonly payload: Record<string, unknown>;
  /** The clock when it was accepted. */
  readonly acceptedAt: number;
}

export interface EventOutcome {
  readonly event: AsyncEvent;
  readonly attempts: number;
  readonly ok: boolean;
  /** The result of the attempt that succeeded. */
  readonly result?: unknown;
  readonly errors: readonly string[];
}

export interface AsyncLambdaOptions {
  readonly functionArn: string;
  /** Events run at once at most. */
  readonly concurrency: number;
  readonly run: RunAttempt;
  /** After the last attempt failed: the on-failure destination (the DLQ). */
  readonly onFailure: (record: Record<string, unknown>) => Promise<void>;
  /** Which of the `waiting` attempts gets a free slot (0 to waiting - 1); default the first. */
  readonly pick?: (waiting: number) => number;
}

export class AsyncLambda {
  readonly outcomes: EventOutcome[] = [];
  private readonly options: AsyncLambdaOptions;
  private readonly pending = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private accepted = 0;
  private server?: ReturnType<typeof createServer>;
  endpoint = '';

  constructor(options: AsyncLambdaOptions) {
    this.options = options;
  }

  /** Accepts an event as Invoke with InvocationType Event does: it runs later. */
  invoke(payload: Record<string, unknown>, clockMs: number): AsyncEvent {
    const event: AsyncEvent = { id: this.accepted++, payload, acceptedAt: clockMs };
    const done = this.process(event).finally(() => this.pending.delete(done));
    this.pending.add(done);
    return event;
  }

  /** Waits until every accepted event, and every event those accepted in turn, has finished. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async slot(): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    if (this.waiting.length === 0) {
      this.running--;
      return;
    }
    const [next] = this.waiting.splice(this.options.pick?.(this.waiting.length) ?? 0, 1);
    next!();
  }

  private async process(event: AsyncEvent): Promise<void> {
    const errors: string[] = [];
    let clock = event.acceptedAt;
    for (let attempt = 1; attempt <= ASYNC_RETRIES + 1; attempt++) {
      if (attempt > 1) clock += RETRY_DELAY_MS[attempt - 2]!;
      await this.slot();
      let outcome: AttemptOutcome;
      try {
        outcome = await this.options.run(event, attempt, clock);
      } finally {
        this.release();
      }
      if (outcome.ok) {
        this.outcomes.push({ event, attempts: attempt, ok: true, result: outcome.result, errors });
        return;
      }
      errors.push(outcome.error ?? 'failed');
    }
    this.outcomes.push({ event, attempts: ASYNC_RETRIES + 1, ok: false, errors });
    await this.options.onFailure({
      version: '1.0',
      timestamp: new Date(clock).toISOString(),
      requestContext: { requestId: `soak-async-${event.id}`, functionArn: this.options.functionArn, condition: 'RetriesExhausted', approximateInvokeCount: ASYNC_RETRIES + 1 },
      requestPayload: event.payload,
      responseContext: { statusCode: 200, executedVersion: '1', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: errors[errors.length - 1] },
    });
  }

  /** Serves Lambda's Invoke API for asynchronous invocations of the function; `clock` is the time an Invoke is accepted. */
  async listen(clock: () => number): Promise<string> {
    const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations(\?.*)?$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return answer(res, 404, { message: `no such route ${req.method} ${req.url}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
      const name = decodeURIComponent(m[1]!);
      if (name !== this.options.functionArn) return answer(res, 404, { message: `Function not found: ${name}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
      if (req.headers['x-amz-invocation-type'] !== 'Event') return answer(res, 400, { message: 'the soak serves asynchronous invocations only' }, { 'x-amzn-errortype': 'InvalidParameterValueException' });
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return answer(res, 400, { message: 'payload is not JSON' }, { 'x-amzn-errortype': 'InvalidRequestContentException' });
      }
      this.invoke(payload, clock());
      res.writeHead(202, { 'content-length': 0 });
      res.end();
    };
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this.endpoint;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
