import { spawn } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface GitRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why we killed it, when we did. */
  killed?: 'timeout' | 'size';
}

export interface GitRunOptions {
  cwd: string;
  /** An empty folder git may treat as HOME: no ~/.gitconfig, ~/.netrc or credentials of the service's user. */
  home: string;
  timeoutMs: number;
  /** Kill git when this folder grows past maxBytes. */
  watch?: { dir: string; maxBytes: number };
}

/**
 * git's environment built from nothing rather than inherited: the service's own proxy variables
 * (NO_PROXY would let curl go around our tunnel), credential helpers, askpass programs, system and
 * global config, and GIT_* overrides must not reach a clone of someone else's repository.
 */
export function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_PROTOCOL_FROM_USER: '0',
  };
}

/** Runs git with a time limit (and a disk limit), killing its whole process group past either. */
export function runGit(args: string[], opts: GitRunOptions): Promise<GitRun> {
  return new Promise((resolve) => {
    // Its own process group, so that a kill reaches git-remote-https and index-pack too.
    const child = spawn('git', args, { cwd: opts.cwd, env: gitEnv(opts.home), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let killed: GitRun['killed'];
    const kill = (why: NonNullable<GitRun['killed']>) => {
      killed ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => kill('timeout'), opts.timeoutMs);
    let watching = Boolean(opts.watch);
    const poll = async () => {
      while (watching && opts.watch) {
        if ((await folderBytes(opts.watch.dir)) > opts.watch.maxBytes) kill('size');
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    void poll();
    child.stdout.on('data', (chunk) => (stdout = keepTail(stdout + chunk)));
    child.stderr.on('data', (chunk) => (stderr = keepTail(stderr + chunk)));
    const done = (code: number | null, error?: Error) => {
      clearTimeout(timer);
      watching = false;
      resolve({ code, stdout, stderr: error ? `${stderr}${error.message}` : stderr, ...(killed ? { killed } : {}) });
    };
    child.on('error', (error) => done(null, error));
    child.on('close', (code) => done(code));
  });
}

/** Bytes under `dir` (files as they are, links not followed); 0 when it is not there yet. */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path);
    else total += await lstat(path).then((s) => s.size, () => 0);
  }
  return total;
}

function keepTail(text: string): string {
  return text.length > 16_384 ? text.slice(-16_384) : text;
}
