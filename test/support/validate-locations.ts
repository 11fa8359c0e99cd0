import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { VENV_BIN } from './dagster-server.ts';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, 'validate_locations.py');

/** What `dagster definitions validate` concludes about one location (see validate_locations.py). */
export interface Verdict {
  location: string;
  ok: boolean;
  /** Dagster's error message, e.g. 'dagster._core.errors.DagsterInvalidDefinitionError: "input" is not a valid name…'. */
  error: string | null;
  /** The message with its stack trace, Dagster's system frames hidden, as the CLI prints it. */
  trace: string | null;
}

/**
 * Loads every `<dir>/<location>/definitions.py` in one Python process with the pinned Dagster.
 * Runs in `dir` without DAGSTER_HOME, as the CLI would there: a temporary instance under `dir`.
 */
export async function validateLocations(dir: string): Promise<Verdict[]> {
  const { DAGSTER_HOME: _home, ...env } = process.env;
  const { stdout } = await run(join(VENV_BIN, 'python'), [SCRIPT, dir], { cwd: dir, env, maxBuffer: 256 * 1024 * 1024 });
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Verdict);
}

/** Runs the real CLI on one location, the way the batch loader claims to: `-f definitions.py -d <folder>`. */
export async function validateWithCli(folder: string): Promise<{ ok: boolean; output: string }> {
  const { DAGSTER_HOME: _home, ...env } = process.env;
  try {
    const { stdout, stderr } = await run(join(VENV_BIN, 'dagster'), ['definitions', 'validate', '-f', join(folder, 'definitions.py'), '-d', folder], { cwd: folder, env, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (e.code !== 1) throw error;
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
