import { writeFileSync } from 'node:fs';
import { describeMachine, machine } from '../bench/report.ts';
import { SOAK_COMMAND, soakOptions } from '../bench/soak/options.ts';
import { soakTable } from '../bench/soak/report.ts';
import { runSoak } from '../bench/soak/run.ts';
import { helpText, parseCommandArgs } from '../src/cli/args.ts';
import { errorText, exitCodeOf } from '../src/cli/errors.ts';
import { motoMissing } from '../test/support/tools.ts';

/** `npm run soak -- [--records N] [--keys K] [--shards S] [--seed X] [--out FILE]`: see bench/soak/. */

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values } = parseCommandArgs(SOAK_COMMAND, argv);
    if (values.help) {
      process.stdout.write(helpText(SOAK_COMMAND));
      return 0;
    }
    const { out, ...options } = soakOptions(values);
    const missing = motoMissing();
    if (missing) throw new Error(`the soak needs moto's S3: ${missing}`);
    const report = await runSoak({ ...options, log: (line) => process.stderr.write(`soak: ${line}\n`) });
    const generated = new Date().toISOString();
    process.stdout.write(`${soakTable(report)}\n\nMachine: ${describeMachine(machine())}\nRun: ${generated}; ${report.ok ? 'nothing lost, doubled or misplaced' : 'FAILED: see lost, doubled and quarantine above'}.\n`);
    writeFileSync(out, `${JSON.stringify({ generated, machine: machine(), ...report }, null, 2)}\n`);
    process.stderr.write(`soak: wrote ${out}\n`);
    return report.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`npm run soak: ${errorText(error)}\n`);
    return exitCodeOf(error) || 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
