import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRepo } from '../../src/code-repos/clone-repo.ts';
import { forbiddenReason } from '../../src/code-repos/forbidden-addresses.ts';
import { DEFAULT_REPO_POLICY, type RepoPolicy } from '../../src/code-repos/repo-policy.ts';
import { AppError } from '../../src/errors.ts';
import { closedPort, makeLocalhostCertificate, startHttpsGitServer } from './https-git-server.ts';

// A real https clone end to end: git, our CONNECT proxy, TLS and git's smart-HTTP server. The git
// host listens on loopback, so the proxy is told to let 127.0.0.1 (and only it) through; every
// other address is judged by the real table.
const onlyThisHost = (address: string) => (address === '127.0.0.1' ? null : forbiddenReason(address));

const scratch = mkdtempSync(join(tmpdir(), 'clone-https-test-'));
const workDir = mkdtempSync(join(scratch, 'work-'));
const { certFile, keyFile } = makeLocalhostCertificate(scratch);
let server: Awaited<ReturnType<typeof startHttpsGitServer>>;
let policy: RepoPolicy;
let commit: string;

function git(cwd: string, ...args: string[]): string {
  const env = { PATH: process.env.PATH, HOME: scratch, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

beforeAll(async () => {
  const source = join(scratch, 'source');
  git(scratch, 'init', '-q', '-b', 'main', source);
  writeFileSync(join(source, 'block.json'), '{"slug": "acme_extract"}\n');
  git(source, 'add', '.');
  git(source, 'commit', '-q', '-m', 'one block');
  commit = git(source, 'rev-parse', 'HEAD');
  const projectRoot = join(scratch, 'served');
  git(scratch, 'clone', '-q', '--bare', source, join(projectRoot, 'blocks.git'));
  // /moved/… redirects to 127.0.0.2, loopback too: where a hostile host would send git next.
  server = await startHttpsGitServer({ projectRoot, certFile, keyFile, redirectHost: '127.0.0.2' });
  policy = { ...DEFAULT_REPO_POLICY, allowedPorts: [server.port], workDir };
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const at = (path: string) => {
  const href = `https://localhost:${server.port}${path}`;
  return { href, scheme: 'https' as const, host: 'localhost', port: server.port };
};

describe('an https clone through the proxy', () => {
  it('clones from a real https git host, answering the commit and the files', async () => {
    const cloned = await fetchRepo(at('/blocks.git'), 'main', policy, { forbidden: onlyThisHost, caFile: certFile });
    try {
      expect(cloned.commit).toBe(commit);
      expect(readFileSync(join(cloned.dir, 'block.json'), 'utf8')).toContain('acme_extract');
    } finally {
      await cloned.remove();
    }
  });

  it('refuses where a redirect points into our network, saying so', async () => {
    const error = await fetchRepo(at('/moved/blocks.git'), 'main', policy, { forbidden: onlyThisHost, caFile: certFile }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toBe(`repo_url could not be cloned: the connection to 127.0.0.2:${server.port}: 127.0.0.2 is a loopback address.`);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('says which host did not answer, apart from refusals', async () => {
    const port = await closedPort();
    const url = { href: `https://localhost:${port}/blocks.git`, scheme: 'https' as const, host: 'localhost', port };
    const error = await fetchRepo(url, 'main', { ...policy, allowedPorts: [port] }, { forbidden: onlyThisHost }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'upstream:code_repo', message: `Cloning repo_url failed: localhost:${port} (127.0.0.1) did not answer.` });
    expect(readdirSync(workDir)).toEqual([]);
  });
});
