import { AppError } from '../errors.ts';
import { branchError } from './check-branch.ts';
import { repoUrlError } from './check-repo-url.ts';
import type { RepoPolicy } from './repo-policy.ts';
import type { GitRun } from './run-git.ts';

/**
 * What a failed clone means to the caller, or null when it did not fail. Our own refusals come
 * first: git only reports "CONNECT tunnel failed, response 403", while the proxy knows which
 * address it refused and why. Then git's words, read for the usual cases; git's own last line
 * otherwise (it names the caller's URL and nothing of ours: git runs with an empty environment).
 */
export function cloneError({ run, refusals, unreachable = [], branch, policy }: { run: GitRun; refusals: string[]; unreachable?: string[]; branch: string; policy: RepoPolicy }): AppError | null {
  if (refusals.length) {
    return repoUrlError(
      `could not be cloned: the connection to ${refusals[0]}`,
      'Repositories are fetched only from public addresses on port 443 (and the hosts in CODE_REPO_ALLOWED_HOSTS, when set); a redirect or DNS answer leading anywhere else is refused.',
    );
  }
  if (run.killed === 'size') return repoUrlError(`is larger than this service clones (${Math.round(policy.maxBytes / 1024 / 1024)} MB for one branch's tip)`, 'Keep block code in a smaller repository.');
  if (run.killed === 'timeout') {
    return new AppError('upstream:code_repo', `Cloning repo_url did not finish within ${policy.timeoutMs / 1000} s.`, { hint: 'Try again; if it keeps happening the repository is too large or its host too slow.' });
  }
  if (run.code === 0) return null;
  if (unreachable.length) {
    return new AppError('upstream:code_repo', `Cloning repo_url failed: ${unreachable[0]} did not answer.`, { hint: 'Check that the host is up and reachable from this service; try again later.' });
  }
  const said = run.stderr;
  if (run.code === null) return new AppError('unavailable:git', 'git could not be run on this service.', { hint: 'An operator must install git.' });
  if (/Remote branch .* not found|couldn't find remote ref/i.test(said)) return branchError(`"${branch}" does not exist in the repository`, 'Check the spelling; list the branches with git ls-remote --heads <repo_url>.');
  if (/could not read Username|Authentication failed|terminal prompts disabled|repository '.*' not found|not found|does not appear to be a git repository|HTTP 40[134]|returned error: 40[134]/i.test(said)) {
    return repoUrlError('names no public repository this service can read', 'Check the URL; private repositories (those that need a login) are not supported.');
  }
  const fatal = said.split('\n').filter((line) => /^(fatal|error):/.test(line)).pop()?.slice(0, 300) ?? `git exited with ${run.code}`;
  return new AppError('upstream:code_repo', `Cloning repo_url failed: ${fatal}`, { hint: 'Check that the URL and branch are right and the host is up.' });
}
