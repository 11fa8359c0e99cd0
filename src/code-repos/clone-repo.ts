import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import { checkBranch } from './check-branch.ts';
import { checkRepoUrl, type CheckedRepoUrl } from './check-repo-url.ts';
import { cloneError } from './clone-errors.ts';
import { startConnectProxy, type ConnectProxy, type ConnectProxyOptions } from './connect-proxy.ts';
import type { RepoPolicy } from './repo-policy.ts';
import type { Lookup } from './resolve-host.ts';
import { folderBytes, runGit } from './run-git.ts';

export interface ClonedRepo {
  /** The checkout: the branch's tip, no .git hooks run, symlinks as plain files. */
  dir: string;
  /** The commit checked out (40 hex digits). */
  commit: string;
  /** The URL as checked and cloned (normalised: what a catalog namespace should be derived from). */
  repoUrl: string;
  /** Deletes the checkout; the caller calls it when done reading. */
  remove(): Promise<void>;
}

export interface CloneOptions {
  lookup?: Lookup;
  /** Only for tests of the tunnel itself (see ConnectProxyOptions.forbidden). */
  forbidden?: ConnectProxyOptions['forbidden'];
  /** A CA bundle git trusts instead of the system's (a test's own https git host). */
  caFile?: string;
}

/**
 * Clones one branch of a code repository, after checking `repo_url` and `branch` (AppErrors naming
 * the field). Every https connection goes through our CONNECT proxy, which checks each address it
 * connects to; a failed clone leaves nothing behind.
 */
export async function cloneRepo(input: { repoUrl: unknown; branch: unknown }, policy: RepoPolicy, opts: CloneOptions = {}): Promise<ClonedRepo> {
  const url = await checkRepoUrl(input.repoUrl, policy, opts.lookup);
  const branch = await checkBranch(input.branch);
  return fetchRepo(url, branch, policy, opts);
}

/** The clone itself, for a URL and branch already checked. */
export async function fetchRepo(url: CheckedRepoUrl, branch: string, policy: RepoPolicy, opts: CloneOptions = {}): Promise<ClonedRepo> {
  // root holds the checkout and serves as git's HOME: empty, so no ~/.netrc or config of ours applies.
  const root = await mkdtemp(join(policy.workDir, 'code-repo-'));
  const dir = join(root, 'repo');
  const remove = () => rm(root, { recursive: true, force: true });
  let proxy: ConnectProxy | null = null;
  try {
    // file:// never touches the network; https goes nowhere but through this proxy.
    if (url.scheme === 'https') {
      proxy = await startConnectProxy({ allowedPorts: policy.allowedPorts, allowedHosts: policy.allowedHosts, maxBytes: policy.maxBytes, lookup: opts.lookup, forbidden: opts.forbidden });
    }
    const run = await runGit([...cloneConfig(policy, proxy?.url, opts.caFile), 'clone', '--depth', '1', '--single-branch', '--branch', branch, '--no-tags', '--no-recurse-submodules', '--template=', '--', url.href, dir], {
      cwd: root,
      home: root,
      timeoutMs: policy.timeoutMs,
      watch: { dir, maxBytes: policy.maxBytes },
    });
    // The tunnel cuts an oversized fetch before git's folder shows it (say so, not git's broken
    // pipe), and a clone may finish between two looks at the folder: one last look.
    if (proxy?.oversize || (run.code === 0 && (await folderBytes(dir)) > policy.maxBytes)) run.killed = 'size';
    const failure = cloneError({ run, refusals: proxy?.refusals ?? [], unreachable: proxy?.unreachable, branch, policy });
    if (failure) throw failure;
    const head = await runGit(['rev-parse', '--verify', 'HEAD^{commit}'], { cwd: dir, home: root, timeoutMs: 10_000 });
    const commit = head.stdout.trim();
    if (head.code !== 0 || !/^[0-9a-f]{40}$/.test(commit)) throw new AppError('internal', 'The cloned repository has no commit checked out.');
    return { dir, commit, repoUrl: url.href, remove };
  } catch (error) {
    await remove();
    throw error;
  } finally {
    await proxy?.close();
  }
}

/**
 * `-c` settings for the clone. Only https (and file when the operator allows it) may be spoken,
 * also after a redirect; credential helpers are reset to none; the repository's hooks, fsmonitor
 * and symlinks get no chance to run or point outside the checkout; objects are checked as they come.
 */
function cloneConfig(policy: RepoPolicy, proxyUrl: string | undefined, caFile: string | undefined): string[] {
  const settings = [
    'protocol.allow=never',
    'protocol.https.allow=always',
    ...(policy.allowFile ? ['protocol.file.allow=always'] : []),
    ...(proxyUrl ? [`http.proxy=${proxyUrl}`] : []),
    // Redirects on the first request only (git's default, said out loud): hosts that moved a
    // repository still work; each redirect's target goes through the proxy's checks like any other.
    'http.followRedirects=initial',
    'http.sslVerify=true',
    ...(caFile ? [`http.sslCAInfo=${caFile}`] : []),
    'credential.helper=',
    'core.hooksPath=/dev/null',
    'core.fsmonitor=false',
    'core.symlinks=false',
    'submodule.recurse=false',
    'transfer.fsckObjects=true',
  ];
  return settings.flatMap((s) => ['-c', s]);
}
