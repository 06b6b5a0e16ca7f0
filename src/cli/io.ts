import type { ProgressStream } from './progress.ts';

/**
 * What a command touches outside itself, passed in so tests can run
 * commands in-process with their own streams.
 */
export interface CliIO {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & ProgressStream;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => number;
  /**
   * Registers a synchronous cleanup to run if the process is interrupted
   * (SIGINT, SIGTERM); returns a function that unregisters it.
   */
  readonly onInterrupt: (cleanup: () => void) => () => void;
}

const interruptCleanups = new Set<() => void>();
let signalsInstalled = false;

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const cleanup of interruptCleanups) {
        try {
          cleanup();
        } catch {
          // best effort: keep running the other cleanups
        }
      }
      process.stderr.write(`\ninterrupted (${signal})\n`);
      process.exit(130);
    });
  }
}

export function processIO(): CliIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: Date.now,
    onInterrupt(cleanup) {
      installSignalHandlers();
      interruptCleanups.add(cleanup);
      return () => interruptCleanups.delete(cleanup);
    },
  };
}
