import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** The compiled CLI (`npm run build` first). */
export const CLI = path.join(ROOT, 'dist/apps/cli/src/main.js');

export type CliResult = { code: number; stdout: string; stderr: string };

/** The compiled CLI as a user runs it (only PATH and `env` in its environment); resolves with its exit code whatever it is. */
export function cordon(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 << 20 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}
