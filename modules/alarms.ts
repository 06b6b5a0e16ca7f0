import { Construct } from 'constructs';
import { CloudwatchMetricAlarm } from './aws.ts';
import { countOf, gate, type Gate, presentValues } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';

/**
 * Alarms on what goes wrong in a stream pipeline: the function failing,
 * the stream falling behind (iterator age), and failed batches landing in
 * the DLQ. Each notifies the optional SNS topic when it fires and recovers.
 */
export class PipelineAlarms extends Construct {
  readonly gate: Gate;
  readonly errors?: CloudwatchMetricAlarm;
  readonly iteratorAge?: CloudwatchMetricAlarm;
  readonly dlqMessages?: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, config: ResolvedConfig, functionName: string, dlqName: string) {
    super(scope, id);
    const c = config.alarms;
    this.gate = gate(c.create);
    if (!this.gate.create) return;
    const actions = presentValues([c.snsTopicArn]);
    const common = {
      ...countOf(this.gate),
      alarmActions: actions,
      okActions: actions,
      treatMissingData: 'notBreaching',
      tags: config.tags,
    };
    this.errors = named(new CloudwatchMetricAlarm(this, 'errors', {
      ...common,
      alarmName: `${c.prefix}-errors`,
      alarmDescription: `The ${functionName} stream function failed: batches are being retried and may reach the DLQ.`,
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: functionName },
      statistic: 'Sum',
      period: 300,
      evaluationPeriods: 1,
      threshold: c.errorsThreshold,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
    }), 'errors');
    this.iteratorAge = named(new CloudwatchMetricAlarm(this, 'iterator-age', {
      ...common,
      alarmName: `${c.prefix}-iterator-age`,
      alarmDescription: `The ${functionName} stream function is falling behind the stream (records older than the threshold).`,
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      dimensions: { FunctionName: functionName },
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 5,
      threshold: c.iteratorAgeThresholdMs,
      comparisonOperator: 'GreaterThanThreshold',
    }), 'iterator_age');
    this.dlqMessages = named(new CloudwatchMetricAlarm(this, 'dlq-messages', {
      ...common,
      alarmName: `${c.prefix}-dlq-messages`,
      alarmDescription: `Failed batches of ${functionName} are waiting in the DLQ ${dlqName}: replay them before the stream trims the records.`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: dlqName },
      statistic: 'Maximum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    }), 'dlq_messages');
  }
}
