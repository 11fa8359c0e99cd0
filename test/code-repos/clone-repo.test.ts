import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { checkBranch } from '../../src/code-repos/check-branch.ts';
import { cloneRepo, fetchRepo } from '../../src/code-repos/clone-repo.ts';
import { DEFAULT_REPO_POLICY, type RepoPolicy } from '../../src/code-repos/repo-policy.ts';

const scratch = mkdtempSync(join(tmpdir(), 'clone-repo-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Clones land here, so a test can see that a failed one left nothing behind. */
const workDir = mkdtempSync(join(scratch, 'work-'));
const allowFile: RepoPolicy = { ...DEFAULT_REPO_POLICY, allowFile: true, workDir };

function git(cwd: string, ...args: string[]): string {
  const env = { PATH: process.env.PATH, HOME: scratch, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A repository made here: two files on main, a third (and a symlink out of the checkout) on a branch. */
const source = join(scratch, 'blocks');
git(scratch, 'init', '-q', '-b', 'main', source);
writeFileSync(join(source, 'block.json'), '{"slug": "acme_extract"}\n');
writeFileSync(join(source, 'block.py'), 'def run():\n    return 1\n');
git(source, 'add', '.');
git(source, 'commit', '-q', '-m', 'two files');
const mainCommit = git(source, 'rev-parse', 'HEAD');
git(source, 'checkout', '-q', '-b', 'feature/more');
writeFileSync(join(source, 'extra.py'), 'X = 2\n');
symlinkSync('/etc/passwd', join(source, 'passwd'));
git(source, 'add', '.');
git(source, 'commit', '-q', '-m', 'more');
const featureCommit = git(source, 'rev-parse', 'HEAD');
git(source, 'checkout', '-q', 'main');
const sourceUrl = pathToFileURL(source).href;

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('cloneRepo', () => {
  it('clones a branch of a file:// repository when allowed, answering its commit and files', async () => {
    const cloned = await cloneRepo({ repoUrl: sourceUrl, branch: 'main' }, allowFile);
    try {
      expect(cloned.commit).toBe(mainCommit);
      expect(cloned.repoUrl).toBe(sourceUrl);
      expect(readdirSync(cloned.dir).sort()).toEqual(['.git', 'block.json', 'block.py']);
      expect(readFileSync(join(cloned.dir, 'block.py'), 'utf8')).toContain('def run()');
    } finally {
      await cloned.remove();
    }
    expect(existsSync(cloned.dir)).toBe(false);
  });

  it('checks out the named branch only, with symlinks as plain files that point nowhere', async () => {
    const cloned = await cloneRepo({ repoUrl: sourceUrl, branch: 'feature/more' }, allowFile);
    try {
      expect(cloned.commit).toBe(featureCommit);
      expect(readFileSync(join(cloned.dir, 'extra.py'), 'utf8')).toBe('X = 2\n');
      // A manifest linked to /etc/passwd must not read as /etc/passwd to the steps that follow.
      expect(readFileSync(join(cloned.dir, 'passwd'), 'utf8')).toBe('/etc/passwd');
      expect(git(cloned.dir, 'branch', '-r')).not.toMatch(/main/);
    } finally {
      await cloned.remove();
    }
  });

  it('refuses a file:// URL while the operator has not allowed it, cloning nothing', async () => {
    const error = await failure(cloneRepo({ repoUrl: sourceUrl, branch: 'main' }, { ...allowFile, allowFile: false }));
    expect(error.code).toBe('invalid:repo_url');
    expect(error.message).toMatch(/^repo_url is a file:\/\/ URL/);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it.each(['-uexploit', 'a..b', 'has space', 'ends.lock', '@{-1}', 'x:y', ''])('refuses the branch %j before git runs', async (branch) => {
    // The repository does not exist: a clone attempt would fail on repo_url, not on branch.
    const error = await failure(cloneRepo({ repoUrl: pathToFileURL(join(scratch, 'nowhere')).href, branch }, allowFile));
    expect(error.code).toBe('invalid:branch');
    expect(error.message).toMatch(/^branch /);
    expect(error.issues[0]).toMatchObject({ path: '/branch' });
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('says a branch the repository lacks does not exist, leaving nothing behind', async () => {
    const error = await failure(cloneRepo({ repoUrl: sourceUrl, branch: 'release/9' }, allowFile));
    expect(error.code).toBe('invalid:branch');
    expect(error.message).toBe('branch "release/9" does not exist in the repository.');
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('says a path that holds no repository names none', async () => {
    const error = await failure(cloneRepo({ repoUrl: pathToFileURL(join(scratch, 'nowhere')).href, branch: 'main' }, allowFile));
    expect(error.code).toBe('invalid:repo_url');
    expect(error.message).toMatch(/names no public repository/);
  });

  it('refuses a repository larger than the size limit, leaving nothing behind', async () => {
    const error = await failure(cloneRepo({ repoUrl: sourceUrl, branch: 'main' }, { ...allowFile, maxBytes: 1024 }));
    expect(error.code).toBe('invalid:repo_url');
    expect(error.message).toMatch(/is larger than this service clones/);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('stops a clone that outlives its time limit, leaving nothing behind', async () => {
    const error = await failure(cloneRepo({ repoUrl: sourceUrl, branch: 'main' }, { ...allowFile, timeoutMs: 1 }));
    expect(error.code).toBe('upstream:code_repo');
    expect(error.message).toBe('Cloning repo_url did not finish within 0.001 s.');
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('refuses an https URL whose host resolves to loopback before git runs', async () => {
    const error = await failure(cloneRepo({ repoUrl: 'https://localhost/acme/blocks.git', branch: 'main' }, allowFile));
    expect(error.message).toMatch(/^repo_url must name a public host: localhost resolves to 127\.0\.0\.1/);
  });
});

describe('a clone through the proxy', () => {
  it('fails with our refusal, not git\'s "CONNECT tunnel failed", when git is sent to a host resolving to loopback', async () => {
    // What a rebinding DNS or a redirect amounts to: git connecting to a name the early check never saw resolve there.
    const url = { href: 'https://localhost/acme/blocks.git', scheme: 'https' as const, host: 'localhost', port: 443 };
    const error = await failure(fetchRepo(url, 'main', allowFile));
    expect(error.code).toBe('invalid:repo_url');
    expect(error.message).toBe('repo_url could not be cloned: the connection to localhost:443: localhost resolves to 127.0.0.1, a loopback address.');
    expect(error.message).not.toMatch(/tunnel|403/);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('refuses a name that resolved to a public address when checked and to loopback when git connected', async () => {
    const answers = [['140.82.112.3'], ['127.0.0.1']];
    const rebinding = async () => answers.shift() ?? ['127.0.0.1'];
    const error = await failure(cloneRepo({ repoUrl: 'https://blocks.example/acme/blocks.git', branch: 'main' }, allowFile, { lookup: rebinding }));
    expect(error.message).toMatch(/^repo_url could not be cloned: the connection to blocks\.example:443: blocks\.example resolves to 127\.0\.0\.1, a loopback address/);
    expect(answers).toEqual([]);
  });
});

describe('checkBranch', () => {
  it('takes the names git takes, unchanged', async () => {
    await expect(checkBranch('main')).resolves.toBe('main');
    await expect(checkBranch('release/1.2')).resolves.toBe('release/1.2');
  });
});
