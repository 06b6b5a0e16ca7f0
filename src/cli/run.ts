import { runCli } from './main.ts';

/** The CLI as a program: `node src/cli/run.ts …`, bin/ddb-flatten.mjs, and the bundled dist/cli/ddb-flatten.mjs. */
await runCli();
