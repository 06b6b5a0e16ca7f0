#!/usr/bin/env node
// In the repository, ddb-flatten runs its TypeScript sources directly (Node.js
// 22.18+ strips types). An installed package, or an older Node, runs the
// bundled CLI (dist/cli, built by `npm run build:cli` and on `npm pack`).
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/run.ts', import.meta.url);
const bundled = new URL('../dist/cli/ddb-flatten.mjs', import.meta.url);
const [major, minor] = process.versions.node.split('.').map(Number);
const stripsTypes = major > 22 || (major === 22 && minor >= 18);
const inNodeModules = import.meta.url.includes('/node_modules/');

if (existsSync(source) && stripsTypes && !inNodeModules) await import(source.href);
else if (existsSync(bundled) && major >= 20) await import(bundled.href);
else {
  process.stderr.write(
    `ddb-flatten: cannot start on Node.js ${process.versions.node} (${process.execPath}).\n` +
      'In the repository, run it through npm so the project\'s own Node 22 is used (npx ddb-flatten ...),\n' +
      'or build the bundled CLI for Node.js 20+ with: npm run build:cli\n',
  );
  process.exit(1);
}
