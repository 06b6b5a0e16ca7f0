/**
 * Where a backfill's DynamoDB export lives in the bucket.
 *
 * The backfill action asks for an export at a chosen time T (whole
 * seconds) into `<exportPrefix>/t=<T>/`, so every data file's key carries
 * the snapshot time its rows are stamped with; no lookup is needed when a
 * file is flattened, and the CLI can read the same layout.
 *
 *   <exportPrefix>/t=<T>/AWSDynamoDB/<exportId>/manifest-summary.json
 *   <exportPrefix>/t=<T>/AWSDynamoDB/<exportId>/manifest-files.json
 *   <exportPrefix>/t=<T>/AWSDynamoDB/<exportId>/data/<name>.json.gz
 *   <exportPrefix>/t=<T>/ddb-flatten/<exportId>/<name>.json   (one marker per flattened file)
 */

/** S3 notification keys are URL-encoded, with + for spaces. */
export function notificationKey(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

export interface ExportDataFile {
  /** The export's S3 prefix: <exportPrefix>/t=<T>. */
  readonly exportRoot: string;
  /** Snapshot time of the export, epoch seconds. */
  readonly exportTimeSeconds: number;
  readonly exportId: string;
  /** Data file name without directories and without .json.gz / .gz. */
  readonly fileStem: string;
  readonly key: string;
}

const SAFE = /^[A-Za-z0-9._-]{1,128}$/;

export function exportRoot(exportPrefix: string, exportTimeSeconds: number): string {
  return `${exportPrefix}/t=${exportTimeSeconds}`;
}

/** The data file a key names, or undefined for anything else under the prefix (manifests, markers). */
export function parseExportDataKey(key: string, exportPrefix: string): ExportDataFile | undefined {
  if (!key.startsWith(`${exportPrefix}/`)) return undefined;
  const rest = key.slice(exportPrefix.length + 1).split('/');
  if (rest.length !== 5 || rest[1] !== 'AWSDynamoDB' || rest[3] !== 'data') return undefined;
  const [timePart, , exportId, , fileName] = rest as [string, string, string, string, string];
  const time = /^t=(\d{9,11})$/.exec(timePart);
  if (!time || !SAFE.test(exportId)) return undefined;
  const stem = fileName.replace(/\.json\.gz$|\.gz$/, '');
  if (stem === fileName || !SAFE.test(stem)) return undefined;
  return {
    exportRoot: `${exportPrefix}/${timePart}`,
    exportTimeSeconds: Number(time[1]),
    exportId,
    fileStem: stem,
    key,
  };
}

/** Lake object name of a data file's rows: reprocessing the file overwrites it. */
export function snapshotObjectName(file: ExportDataFile): string {
  return `snapshot-${file.exportId}-${file.fileStem}`;
}

export function markerKey(file: ExportDataFile): string {
  return `${file.exportRoot}/ddb-flatten/${file.exportId}/${file.fileStem}.json`;
}

/** The export root a DescribeExport S3Prefix names, with its time. */
export function parseExportRoot(s3Prefix: string, exportPrefix: string): { root: string; exportTimeSeconds: number } | undefined {
  const trimmed = s3Prefix.replace(/\/+$/, '');
  const m = new RegExp(`^${exportPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/t=(\\d{9,11})$`).exec(trimmed);
  return m ? { root: trimmed, exportTimeSeconds: Number(m[1]) } : undefined;
}

/** What a marker records about one flattened data file. */
export interface ExportFileMarker {
  readonly source: string;
  readonly objects: readonly string[];
  readonly items: number;
  readonly rows: number;
  readonly flattenedAt: string;
}
