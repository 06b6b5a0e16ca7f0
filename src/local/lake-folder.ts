import { mkdir, readdir, rm, writeFile, access } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * The local lake: a folder laid out like the bucket. npm start empties its
 * own prefixes at the start of a run so the views show exactly that run, and
 * never touches a folder it did not create (marked by LAKE_MARKER).
 */

export const LAKE_MARKER = '.ddb-flatten-lake';

export async function prepareLakeFolder(dir: string, prefixes: readonly string[]): Promise<string> {
  const root = resolve(dir);
  const entries = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`--lake ${dir}: cannot read the folder: ${error.message}`);
  });
  if (entries === undefined || entries.length === 0) {
    await mkdir(root, { recursive: true });
  } else {
    const ours = await access(join(root, LAKE_MARKER)).then(
      () => true,
      () => false,
    );
    if (!ours) {
      throw new Error(`--lake ${dir}: the folder is not empty and was not made by npm start (it has no ${LAKE_MARKER} file); name a new or empty folder`);
    }
    for (const prefix of prefixes) await rm(join(root, prefix), { recursive: true, force: true });
  }
  await writeFile(join(root, LAKE_MARKER), 'A local lake written by npm start (ddb-flatten). npm start empties it at the start of each run.\n');
  return root;
}
