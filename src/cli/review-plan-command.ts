import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULT_DOCS_URL } from '../review/context.ts';
import { reviewMarkdown } from '../review/markdown.ts';
import { parsePlan, PlanFileError, type Plan } from '../review/plan.ts';
import { reviewPlan } from '../review/review.ts';
import { choiceOption, HELP_OPTION, helpText, listOption, parseCommandArgs, stringOption, type CommandSpec } from './args.ts';
import { BadFileError, UsageError } from './errors.ts';
import type { CliIO } from './io.ts';

export const REVIEW_PLAN_COMMAND: CommandSpec = {
  name: 'ddb-flatten review-plan',
  usage: 'PLAN [--allow-replace ADDRESS ...] [--format markdown|json] [--docs-url URL]',
  title: 'Review a Terraform plan of the pipeline: data at risk first, then versions, views and access.',
  summary:
    'Reads a Terraform plan (the JSON of terraform show -json tfplan, or the binary plan file itself) of the\n' +
    'CDKTF stack or of any root that uses the module, and explains it in the pipeline\'s terms: every\n' +
    'destroy or replace of a stateful resource (table, lake bucket, Glue database and table, queue, KMS key,\n' +
    'log group) with the arguments that force it, what is lost and the safe way instead; the versions the\n' +
    'function publishes and where the alias and the trigger go; view SQL as a diff; IAM and bucket policy\n' +
    'statements added or removed, widening flagged; then everything else. Writes the review to stdout.',
  options: {
    'allow-replace': {
      type: 'string',
      value: 'ADDRESS',
      multiple: true,
      help: 'Accept the destroy or replace of this stateful resource, or that it was deleted outside Terraform,\nor (on the pipeline\'s function) a history retention set or shortened: its full address as the review\nprints it (module.orders_flatten.aws_dynamodb_table.x[0]). Give it once per address.',
    },
    format: { type: 'string', value: 'FORMAT', help: 'markdown (default: a PR comment, under GitHub\'s 65,536 characters) or json (policy engines).' },
    'docs-url': { type: 'string', value: 'URL', help: `Where the runbooks the review links to are (the README). Default: ${DEFAULT_DOCS_URL}.` },
    ...HELP_OPTION,
  },
  positionals: true,
  notes: [
    'PLAN is a file, or - for standard input. A binary plan file (terraform plan -out) is read with\n' +
      'terraform show -json, which needs terraform on the PATH (or TERRAFORM_BIN) and runs in the current\n' +
      'directory: run it in the Terraform root where terraform init ran.',
    'Exit codes: 0 the review vouches for the plan; 3 it does not: a stateful resource is destroyed,\n' +
      'replaced or was deleted outside Terraform, or the history retention is set or shortened (and not\n' +
      'allowed), Terraform could not finish the plan, or a check failed (the heading and, with --format\n' +
      'json, verdict and failures say which); 2 bad command line or a plan file that cannot be read (the\n' +
      'reason is printed); 1 unexpected error.',
    'Example:\n  terraform plan -out=tfplan && terraform show -json tfplan > plan.json\n  ddb-flatten review-plan plan.json > review.md',
  ],
};

export const REVIEW_FORMATS = ['markdown', 'json'] as const;

/** A plan file is a zip archive; its JSON is what terraform show -json prints. */
const isZip = (bytes: Buffer): boolean => bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50;

function terraformShow(file: string, env: NodeJS.ProcessEnv): Promise<string> {
  const bin = env.TERRAFORM_BIN ?? 'terraform';
  return new Promise((done, fail) => {
    const child = spawn(bin, ['show', '-json', '-no-color', resolve(file)], { env: { ...env, TF_IN_AUTOMATION: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      fail(
        new BadFileError(
          error.code === 'ENOENT'
            ? `${file} is a binary plan file; reading it needs terraform (${bin} is not on the PATH; set TERRAFORM_BIN), or give the JSON: terraform show -json ${file} > plan.json`
            : `${file}: could not run ${bin}: ${error.message}`,
        ),
      );
    });
    child.on('close', (code) => {
      if (code === 0) return done(Buffer.concat(out).toString('utf8'));
      const reason = err.replace(/\s+/g, ' ').trim().slice(0, 600);
      fail(new BadFileError(`${file}: terraform show -json failed (exit ${code}): ${reason || 'no output'}; run it in the Terraform root where the plan was made, after terraform init`));
    });
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** The plan named on the command line, parsed; every way it can be unusable is a BadFileError naming the file. */
export async function loadPlan(file: string, io: CliIO): Promise<Plan> {
  const name = file === '-' ? 'standard input' : file;
  let bytes: Buffer;
  try {
    bytes = file === '-' ? await readAll(io.stdin) : await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a plan file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new BadFileError(`${name}: ${why}`);
  }
  let text: string;
  if (isZip(bytes)) {
    if (file === '-') throw new BadFileError('standard input holds a binary plan file: give it as a file, or pipe terraform show -json instead');
    text = await terraformShow(file, { ...process.env, ...io.env });
  } else {
    text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  }
  try {
    return parsePlan(text, name);
  } catch (error) {
    if (error instanceof PlanFileError) throw new BadFileError(error.message);
    throw error;
  }
}

export async function runReviewPlan(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(REVIEW_PLAN_COMMAND, argv);
  if (values.help) {
    io.stdout.write(helpText(REVIEW_PLAN_COMMAND));
    return 0;
  }
  const format = choiceOption(values, 'format', REVIEW_FORMATS, 'markdown');
  const allowReplace = listOption(values, 'allow-replace').map((a) => a.trim());
  if (positionals.length === 0) throw new UsageError('review-plan needs a plan file: ddb-flatten review-plan plan.json (terraform show -json tfplan > plan.json), or - for standard input');
  if (positionals.length > 1) {
    const hint = allowReplace.length ? '; give --allow-replace once per address (--allow-replace A --allow-replace B)' : '';
    throw new UsageError(`review-plan takes one plan file, got ${positionals.length}: ${positionals.map((p) => `"${p}"`).join(' ')}${hint}`);
  }
  const plan = await loadPlan(positionals[0]!, io);
  const review = reviewPlan(plan, { allowReplace, docsUrl: stringOption(values, 'docs-url') });
  io.stdout.write(format === 'json' ? `${JSON.stringify(review, null, 2)}\n` : reviewMarkdown(review));
  for (const a of review.allowReplace) if (!a.matched) io.stderr.write(`ddb-flatten: warning: --allow-replace ${a.address} matches nothing at risk in this plan\n`);
  return review.exitCode;
}
