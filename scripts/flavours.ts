import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../modules/lambda-bundle.ts';
import type { ModuleSynthRequest, ModuleSynthResult, StackSynthRequest, StackSynthResult } from '../stacks/synth.ts';
import { buildFlavours, DIST, FLAVOURS, type FlavourName, flavourDir, inputsHash, isFresh } from './build-flavours.ts';

/**
 * Running the stacks in a chosen flavour, each in its own process (the two
 * cores must never share an app):
 *
 * - `cdktf`: the sources themselves (stacks/synth.ts), what `npm run synth`
 *   and `cdktf synth` run;
 * - `cdktn`: the built flavour (dist/cdktn/stacks/synth.js), what
 *   `npm run synth:cdktn` and `cdktn synth` run; built first when stale.
 */

export { FLAVOURS, type FlavourName };

const sleep = (ms: number): void => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms) as unknown as void;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds dist/cdktf and dist/cdktn unless they match the sources. Test
 * files run in parallel processes: one builds (holding a lock directory),
 * the others wait for it and then find the build fresh.
 */
export function ensureFlavours(): void {
  const hash = inputsHash();
  const names = Object.keys(FLAVOURS) as FlavourName[];
  if (names.every((n) => isFresh(n, hash))) return;
  mkdirSync(DIST, { recursive: true });
  const lock = join(DIST, '.flavours-lock');
  for (const started = Date.now(); ; ) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // Just created, pid not written yet.
      }
      if (Number.isInteger(owner) && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() - started > 300_000) throw new Error(`ensureFlavours: ${lock} has been held for 5 minutes; remove it if no build is running`);
      else sleep(250);
    }
  }
  try {
    if (!names.every((n) => isFresh(n, hash))) buildFlavours();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The synth entry of a flavour: the sources for cdktf, the built copy for cdktn. */
export function synthEntry(flavour: FlavourName): string {
  if (flavour === 'cdktf') return join(REPO_ROOT, 'stacks', 'synth.ts');
  ensureFlavours();
  return join(flavourDir(flavour), 'stacks', 'synth.js');
}

interface Commands {
  stack: [StackSynthRequest, StackSynthResult];
  module: [ModuleSynthRequest, ModuleSynthResult];
}

function files<C extends keyof Commands>(request: Commands[C][0]): { dir: string; requestFile: string; resultFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-flatten-flavour-'));
  const requestFile = join(dir, 'request.json');
  writeFileSync(requestFile, JSON.stringify(request));
  return { dir, requestFile, resultFile: join(dir, 'result.json') };
}

function failure(flavour: FlavourName, command: string, code: number | null, stderr: string): Error {
  return new Error(`synth ${command} in the ${flavour} flavour failed (exit ${code}):\n${stderr.slice(-8000)}`);
}

/** Runs a synth command of stacks/synth.ts in a child process of the given flavour. */
export function runInFlavourSync<C extends keyof Commands>(flavour: FlavourName, command: C, request: Commands[C][0]): Commands[C][1] {
  const entry = synthEntry(flavour);
  const f = files<C>(request);
  try {
    const r = spawnSync(process.execPath, [entry, command, f.requestFile, f.resultFile], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw failure(flavour, command, r.status, `${r.stderr}${r.error?.message ?? ''}`);
    return JSON.parse(readFileSync(f.resultFile, 'utf8')) as Commands[C][1];
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
}

/** The same, without blocking this process (the e2e deploys several roots at once). */
export async function runInFlavour<C extends keyof Commands>(flavour: FlavourName, command: C, request: Commands[C][0]): Promise<Commands[C][1]> {
  const entry = synthEntry(flavour);
  const f = files<C>(request);
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [entry, command, f.requestFile, f.resultFile], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    if (code !== 0) throw failure(flavour, command, code, stderr);
    return JSON.parse(readFileSync(f.resultFile, 'utf8')) as Commands[C][1];
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
}
