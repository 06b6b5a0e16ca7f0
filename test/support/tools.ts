import { spawnSync } from 'node:child_process';

/**
 * External tools the tests use (python3 with pyarrow and moto, terraform).
 * On a developer machine without them the tests that need them are skipped
 * with the reason; in CI (CI_REQUIRE_TOOLS=1, set by .ci/run) a missing tool
 * is a failure, never a silent skip.
 */
export const toolsRequired = process.env.CI_REQUIRE_TOOLS === '1' || process.env.CI_REQUIRE_TERRAFORM === '1';

export function pythonHas(module: string): boolean {
  const r = spawnSync('python3', ['-c', `import ${module}`], { stdio: 'ignore' });
  return r.status === 0;
}

/** Returns undefined when available, otherwise the reason (throws in CI). */
export function requireTool(available: boolean, what: string, howToGet: string): string | undefined {
  if (available) return undefined;
  const reason = `${what} is not available (${howToGet})`;
  if (toolsRequired) throw new Error(`CI requires ${reason}`);
  return reason;
}

export const pyarrowMissing = (): string | undefined => requireTool(pythonHas('pyarrow'), 'python3 with pyarrow', 'pip install pyarrow');
export const motoMissing = (): string | undefined => requireTool(pythonHas('moto.server'), 'python3 with moto[server]', 'pip install "moto[server]"');
