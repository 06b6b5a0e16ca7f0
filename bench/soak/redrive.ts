import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RedriveResult } from '../../src/actions/redrive.ts';

/**
 * Redrive of everything the mappings sent to the on-failure queue, through
 * the function's own {"action":"redrive"} (the code the Lambda runs), in
 * invocations of up to 100 messages until the queue is empty. S3 faults
 * stay on, so a redrive can fail to store a range and keep its message.
 * A kept message is invisible for the 300 s the redrive asked for; instead
 * of waiting that out, the next round makes those messages visible again
 * (what the passing of the visibility timeout would do), using the receipt
 * handles seen on the wire.
 */

export interface RedriveTotals {
  invocations: number;
  /** Redrive invocations that failed as a whole (a timeout); their messages are retried in the next round. */
  failedInvocations: number;
  rounds: number;
  messages: number;
  deleted: number;
  /** Messages received but not deleted in a round (storing their range failed), then redriven in a later one. */
  keptThenRetried: number;
  records: number;
  rows: number;
  /** Messages still in the queue at the end: their records are not in the lake. */
  leftInQueue: number;
  problems: string[];
}

export type RedriveInvoke = (maxMessages: number) => Promise<RedriveResult>;

const MAX_ROUNDS = 20;

/** Records ReceiveMessage's receipt handles by message id (a middleware on the client the action uses). */
export function watchReceipts(sqs: SQSClient): Map<string, string> {
  const receipts = new Map<string, string>();
  sqs.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const messages = (result.output as { Messages?: { MessageId?: string; ReceiptHandle?: string }[] }).Messages;
      for (const m of messages ?? []) if (m.MessageId && m.ReceiptHandle) receipts.set(m.MessageId, m.ReceiptHandle);
      return result;
    },
    { step: 'initialize', name: 'soakReceiptWatch' },
  );
  return receipts;
}

export async function redriveAll(invoke: RedriveInvoke, sqs: SQSClient, queueUrl: string, receipts: ReadonlyMap<string, string>): Promise<RedriveTotals> {
  const totals: RedriveTotals = { invocations: 0, failedInvocations: 0, rounds: 0, messages: 0, deleted: 0, keptThenRetried: 0, records: 0, rows: 0, leftInQueue: 0, problems: [] };
  const done = new Set<string>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    totals.rounds++;
    for (;;) {
      let result: RedriveResult;
      totals.invocations++;
      try {
        result = await invoke(100);
      } catch (error) {
        // The invocation failed (it timed out, say): what it deleted stays deleted, the rest is retried.
        totals.failedInvocations++;
        totals.problems.push(`invocation failed: ${(error as Error).message}`);
        break;
      }
      totals.messages += result.messages;
      totals.deleted += result.deleted;
      for (const o of result.outcomes) {
        if (o.deleted) {
          done.add(o.messageId);
          totals.records += o.records;
          totals.rows += o.rows;
        } else totals.problems.push(o.problem ?? 'kept');
      }
      if (result.messages === 0) break;
    }
    // Received and not deleted: kept for a reason, or in an invocation that failed.
    const pending = [...receipts.keys()].filter((id) => !done.has(id));
    if (pending.length === 0) break;
    totals.keptThenRetried += pending.length;
    for (const id of pending) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receipts.get(id)!, VisibilityTimeout: 0 })).catch(() => undefined);
    }
  }
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  totals.leftInQueue = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  return totals;
}
