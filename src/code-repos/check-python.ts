import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TELEMETRY_OFF } from '../adapters/dagster/telemetry-off.ts';

/** One block as constellation_blocks.check_repo reads it (docs/code-repositories.md). */
export interface PythonCheckBlock {
  name: string;
  type: string;
  callable: string;
  inputs: Array<{ name: string; type: string; multiple: boolean }>;
  outputs: Array<{ name: string; type: string }>;
  config: Record<string, unknown>;
}

export interface PythonCheckAnswer {
  requirements: Array<{ line: string; ok: boolean; error?: string }>;
  blocks: Array<{ name: string; ok: boolean; error?: string }>;
}

export interface PythonCheckOptions {
  python: string;
  timeoutMs: number;
  memoryMb: number;
  /** The subprocess's environment (tests add PYTHONPATH); the service's own by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `python -m constellation_blocks.check_repo` in the environment that will run the blocks,
 * on the package laid out in a scratch folder, with a wall-clock timeout (the module sets its own
 * memory limit). Resolves to its answer, or to why there is none.
 */
export async function checkInPython(
  request: { package: string; files: Record<string, string>; requirements: string[]; blocks: PythonCheckBlock[] },
  opts: PythonCheckOptions,
): Promise<{ ok: true; answer: PythonCheckAnswer } | { ok: false; error: string }> {
  const root = await mkdtemp(join(tmpdir(), 'repo-check-'));
  try {
    for (const [path, text] of Object.entries(request.files)) {
      const target = join(root, request.package, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, text);
    }
    await mkdir(join(root, request.package), { recursive: true });
    const requestFile = join(root, 'request.json');
    await writeFile(requestFile, JSON.stringify({ root, package: request.package, requirements: request.requirements, blocks: request.blocks }));
    const env = { ...(opts.env ?? process.env), ...TELEMETRY_OFF, PYTHONDONTWRITEBYTECODE: '1' };
    return await run(opts.python, ['-m', 'constellation_blocks.check_repo', '--memory-mb', String(opts.memoryMb), requestFile], env, opts.timeoutMs, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function run(python: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, cwd: string): Promise<{ ok: true; answer: PythonCheckAnswer } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    // Its own process group: a kill must reach anything the repository's code started.
    const child = spawn(python, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.stdout.on('data', (chunk) => (stdout = (stdout + chunk).slice(-1_000_000)));
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `could not start ${python}: ${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return resolve({ ok: false, error: `the check did not finish within ${Math.round(timeoutMs / 1000)} s (a module that takes this long to import, or never returns, cannot be loaded by Dagster either)` });
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        const answer = JSON.parse(last) as PythonCheckAnswer;
        if (Array.isArray(answer.requirements) && Array.isArray(answer.blocks)) return resolve({ ok: true, answer });
      } catch {
        // not an answer: say how it ended
      }
      resolve({ ok: false, error: `the check stopped (exit ${code}) without an answer: ${stderr.trim().split('\n').slice(-3).join(' ')}`.trim() });
    });
  });
}
