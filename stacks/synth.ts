import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from '../modules/cdk.ts';
import { CORE } from '../modules/core.ts';
import type { StackSettings } from './config.ts';
import { ModuleStack } from './module-stack.ts';
import { FlatteningPipelineStack } from './pipeline-stack.ts';

/**
 * Synthesis of the deployable stack and of the module stack, in whichever
 * flavour this file is part of: the sources (cdktf) or a built flavour
 * (dist/cdktn/stacks/synth.js). Each flavour is its own module graph (one
 * app must never mix the two cores), so other processes run it as a
 * command (scripts/flavours.ts):
 *
 *   node <flavour>/stacks/synth.js stack|module REQUEST.json RESULT.json
 */

export interface StackSynthRequest {
  readonly settings: StackSettings;
  readonly outdir: string;
  /** The app's context: cdktf.json's `context`, as `cdktf synth` passes it. */
  readonly context?: Record<string, unknown>;
  /** Merged into the provider block: a local AWS endpoint (npm run plan --local, the e2e). */
  readonly providerOverrides?: Record<string, unknown>;
}

export interface StackSynthResult {
  /** The core that synthesized it (cdktf or cdktn). */
  readonly core: string;
  /** Where the stack's cdk.tf.json is, and terraform runs. */
  readonly stackDir: string;
}

export function synthDeployableStack(request: StackSynthRequest): StackSynthResult {
  const app = new App({ outdir: request.outdir, context: request.context ?? {} });
  const stack = new FlatteningPipelineStack(app, request.settings.stackName, request.settings);
  for (const [key, value] of Object.entries(request.providerOverrides ?? {})) stack.provider.addOverride(key, value);
  app.synth();
  return { core: CORE, stackDir: join(request.outdir, 'stacks', request.settings.stackName) };
}

export interface ModuleSynthRequest {
  readonly codeZipPath: string;
  readonly outdir: string;
}

export interface ModuleSynthResult {
  readonly core: string;
  /** The module stack's cdk.tf.json. */
  readonly json: Record<string, unknown>;
  /** The zip's path as the synthesized JSON references it (assets/…), for the module build to rewrite. */
  readonly assetPath: string;
}

export function synthModuleStack(request: ModuleSynthRequest): ModuleSynthResult {
  const app = new App({ outdir: request.outdir });
  const stack = new ModuleStack(app, 'module', { codeZipPath: request.codeZipPath });
  app.synth();
  const json = JSON.parse(readFileSync(join(request.outdir, 'stacks', 'module', 'cdk.tf.json'), 'utf8')) as Record<string, unknown>;
  return { core: CORE, json, assetPath: stack.pipeline.stream.asset.path };
}

export const SYNTH_COMMANDS = { stack: synthDeployableStack, module: synthModuleStack } as const;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [command, requestFile, resultFile] = process.argv.slice(2);
  const run = SYNTH_COMMANDS[command as keyof typeof SYNTH_COMMANDS];
  if (!run || !requestFile || !resultFile) {
    process.stderr.write(`usage: node stacks/synth.js ${Object.keys(SYNTH_COMMANDS).join('|')} REQUEST.json RESULT.json (got: ${process.argv.slice(2).join(' ')})\n`);
    process.exit(2);
  }
  const result = run(JSON.parse(readFileSync(requestFile, 'utf8')));
  mkdirSync(dirname(resultFile), { recursive: true });
  writeFileSync(resultFile, JSON.stringify(result));
}
