#!/usr/bin/env node
// ddb-flatten runs its TypeScript sources directly, which needs Node.js 22.18
// or newer (type stripping on by default). Check before importing them, so an
// older Node gets a clear message instead of a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `ddb-flatten needs Node.js 22.18 or newer; this is Node.js ${process.versions.node} (${process.execPath}).\n` +
      'Run it through npm so the project\'s own Node 22 is used: npx ddb-flatten ... (after npm install),\n' +
      'or install Node.js 22 and put it first on your PATH.\n',
  );
  process.exit(1);
}
const { runCli } = await import('../src/cli/main.ts');
await runCli();
