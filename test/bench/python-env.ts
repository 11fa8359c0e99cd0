import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Makes sure the project's virtualenv (Dagster and the block library) is there, as the tests do. */
export function ensurePythonEnv(): void {
  const root = resolve(import.meta.dirname, '../..');
  if (spawnSync('bash', [join(root, 'scripts/python-env.sh')], { stdio: 'inherit' }).status !== 0) throw new Error('no Python environment for Dagster');
}
