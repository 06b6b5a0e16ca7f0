/**
 * CloudWatch Embedded Metric Format: one JSON line per batch, turned into
 * metrics by CloudWatch Logs with no API call and no extra dependency.
 */
export const METRICS_NAMESPACE = 'DdbFlatten';

export type MetricName = 'RecordsReceived' | 'RowsWritten' | 'ObjectsWritten' | 'BytesWritten' | 'RecordsQuarantined' | 'RecordsErased' | 'BatchFailures';

export function emfLine(
  metrics: Partial<Record<MetricName, number>>,
  dimensions: Record<string, string>,
  timestamp = Date.now(),
): string {
  const names = Object.keys(metrics) as MetricName[];
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: names.map((Name) => ({ Name, Unit: Name === 'BytesWritten' ? 'Bytes' : 'Count' })),
        },
      ],
    },
    ...dimensions,
    ...metrics,
  });
}
