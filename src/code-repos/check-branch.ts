import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import { runGit } from './run-git.ts';

export function branchError(problem: string, hint = 'Give a branch name such as main or release/1.2.'): AppError {
  const message = `branch ${problem}.`;
  return new AppError('invalid:branch', message, { hint, issues: [{ code: 'branch_refused', path: '/branch', message, hint }] });
}

/**
 * A branch name git itself accepts (`git check-ref-format --branch`), checked before any clone.
 * Run in an empty folder, so that `@{-1}`-style names cannot expand to a branch of some repository
 * around us, and the answer must be the name unchanged.
 */
export async function checkBranch(raw: unknown): Promise<string> {
  if (typeof raw !== 'string' || !raw) throw branchError('is missing; it must be a string');
  if (raw.length > 255) throw branchError('is longer than 255 characters');
  // A leading "-" would be read as an option by every git command it is passed to.
  if (raw.startsWith('-')) throw branchError(`"${raw.slice(0, 40)}" starts with "-"`);
  if (/[\0-\x1f\x7f]/.test(raw)) throw branchError('contains control characters');
  const scratch = await mkdtemp(join(tmpdir(), 'branch-check-'));
  try {
    const run = await runGit(['check-ref-format', '--branch', raw], { cwd: scratch, home: scratch, timeoutMs: 10_000 });
    if (run.code === null) throw new AppError('unavailable:git', 'git could not be run on this service.', { hint: 'An operator must install git.' });
    if (run.code !== 0 || run.stdout.trim() !== raw) {
      throw branchError(`"${raw.slice(0, 80)}" is not a valid branch name`, 'Branch names cannot contain spaces, "..", "~", "^", ":", "?", "*", "[", "\\", "@{", or end in "/" or ".lock".');
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return raw;
}
