import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { allowedHosts, checkListenAddress, isLoopback } from '../src/listen-policy.ts';
import { createLogger } from '../src/logger.ts';
import { freePort } from './support/postgres-server.ts';

describe('config', () => {
  it('defaults to the embedded setup: port 8000, data in .data, no Postgres', () => {
    expect(loadConfig({})).toMatchObject({ PORT: 8000, DATA_DIR: '.data', LOG_LEVEL: 'info' });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable and why', () => {
    const read = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/PORT:[\s\S]*DATABASE_URL: must be a postgres:\/\/[\s\S]*LOG_LEVEL/);
  });

  it('takes REDIS_URL only as a redis:// or rediss:// URL', () => {
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@cache.internal:6380/0' }).REDIS_URL).toBe('rediss://:pw@cache.internal:6380/0');
    expect(() => loadConfig({ REDIS_URL: 'cache.internal:6379' })).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ PORT: 8000 });
  });
});

describe('logs', () => {
  it('are JSON lines with secrets and prompts blanked', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger('info', sink).child({ request_id: 'r-1' });
    log.info({ password: 'hunter2', headers: { authorization: 'Bearer abc' }, prompt: 'my secret plan', redisUrl: 'redis://:s3cret@cache:6379', table: 'customers' }, 'hello');
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ request_id: 'r-1', table: 'customers', password: '[redacted]', prompt: '[redacted]', msg: 'hello' });
    expect(entry.headers.authorization).toBe('[redacted]');
    expect(lines[0]).not.toMatch(/hunter2|Bearer abc|secret plan|s3cret/);
  });
});

describe('where the service listens', () => {
  it('loopback is 127.0.0.0/8, ::1 and localhost; nothing else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.example']) expect(isLoopback(host), host).toBe(false);
  });

  it('beyond loopback is refused, naming the variable that allows it; allowed, it warns', () => {
    expect(checkListenAddress(loadConfig({}))).toEqual({ warning: null });
    const refuse = () => checkListenAddress(loadConfig({ HOST: '0.0.0.0' }));
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(/HOST=0\.0\.0\.0[\s\S]*UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH=true/);
    expect(checkListenAddress(loadConfig({ HOST: '0.0.0.0', UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH: 'true' })).warning).toMatch(/AUTH_MODE=local/);
    expect(() => loadConfig({ UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH: 'yes' })).toThrow(/UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH/);
    // With authentication required, beyond loopback is what it is for; production requires it by default.
    expect(checkListenAddress(loadConfig({ HOST: '0.0.0.0', AUTH_MODE: 'required' }))).toEqual({ warning: null });
    expect(loadConfig({ NODE_ENV: 'production' }).AUTH_MODE).toBe('required');
    expect(loadConfig({}).AUTH_MODE).toBe('local');
    expect(() => loadConfig({ AUTH_MODE: 'none' })).toThrow(/AUTH_MODE/);
  });

  it('ALLOWED_HOSTS names the hosts every route answers to; MCP_ALLOWED_HOSTS still works', () => {
    expect(allowedHosts(loadConfig({}))).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(allowedHosts(loadConfig({ ALLOWED_HOSTS: 'agent.internal, localhost' }))).toEqual(['agent.internal', 'localhost', '127.0.0.1']);
    expect(allowedHosts(loadConfig({ MCP_ALLOWED_HOSTS: 'old.name' }))).toEqual(['old.name', '127.0.0.1']);
    expect(allowedHosts(loadConfig({ ALLOWED_HOSTS: 'new.name', MCP_ALLOWED_HOSTS: 'old.name' }))).toEqual(['new.name', '127.0.0.1']);
    expect(allowedHosts(loadConfig({ HOST: 'box.lan', UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH: 'true' }))).toContain('box.lan');
  });
});

describe('the real server entry', () => {
  const ROOT = resolve(import.meta.dirname, '..');
  const NODE = join(ROOT, 'node_modules/.bin/node');
  const dataDir = mkdtempSync(join(tmpdir(), 'constellation-listen-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Starts `node src/server.ts`; resolves when it exits or prints that it listens. */
  function start(env: Record<string, string>) {
    const child = spawn(NODE, [join(ROOT, 'src/server.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: '0', DAGSTER_GRAPHQL_URL: 'none', DEPLOY_WORKERS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    const settled = new Promise<{ code: number | null; listening: boolean }>((done) => {
      child.on('exit', (code) => done({ code, listening: false }));
      child.stdout.on('data', () => {
        if (/is listening on/.test(stdout)) done({ code: null, listening: true });
      });
    });
    return { child, settled, output: () => ({ stdout, stderr }) };
  }

  it('HOST=0.0.0.0 → refuses to start, says why on stderr, exit code 1', async () => {
    const run = start({ HOST: '0.0.0.0' });
    const { code, listening } = await run.settled;
    expect(listening).toBe(false);
    expect(code).toBe(1);
    const { stdout, stderr } = run.output();
    expect(stdout).toBe('');
    expect(stderr).toContain('HOST=0.0.0.0');
    expect(stderr).toMatch(/AUTH_MODE=local/);
    expect(stderr).toContain('UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH=true');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a second service on the same embedded store, or on a taken port, refuses to start and says why', async () => {
    const first = start({});
    try {
      const { listening } = await first.settled;
      expect(listening, first.output().stderr).toBe(true);
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(first.output().stdout)![1]!;

      const sameStore = start({});
      expect(await sameStore.settled).toEqual({ code: 1, listening: false });
      expect(sameStore.output().stderr).toContain(`another Constellation Agent (pid ${first.child.pid}, http://127.0.0.1:${port})`);
      expect(sameStore.output().stderr).toContain(`DATA_DIR=${dataDir}`);

      const otherDir = mkdtempSync(join(tmpdir(), 'constellation-listen-'));
      try {
        const samePort = start({ DATA_DIR: otherDir, PORT: port });
        expect(await samePort.settled).toEqual({ code: 1, listening: false });
        expect(samePort.output().stderr).toContain(`127.0.0.1:${port} is taken`);
        expect(samePort.output().stderr).toContain('set PORT to a free port');
        expect(samePort.output().stderr).not.toMatch(/\n\s+at /);
      } finally {
        rmSync(otherDir, { recursive: true, force: true });
      }
      // The first is untouched.
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      await new Promise((done) => (first.child.exitCode !== null ? done(null) : first.child.once('exit', done)));
    }
  }, 60_000);

  it('logs are readable lines at a terminal (a real pty, through script(1)) and JSON lines through a pipe', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'constellation-listen-'));
    // script(1) runs the server on a new pseudo-terminal and copies what it prints to our pipe.
    const child = spawn('script', ['-qfec', `${NODE} ${join(ROOT, 'src/server.ts')}`, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: otherDir, PORT: '0', DAGSTER_GRAPHQL_URL: 'none', DEPLOY_WORKERS: '0', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    try {
      await new Promise<void>((done, fail) => {
        child.stdout.on('data', (d: Buffer) => {
          out += String(d);
          if (/INFO.*started/.test(out.replace(/\x1b\[[0-9;]*m/g, ''))) done();
        });
        child.on('exit', () => fail(new Error(`exited before logging: ${out}`)));
      });
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      // One line per event: time, level name, message, its fields.
      expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: started \{"store":"pglite","kv":"memory","block_types":\d+\}\r?$/m);
      expect(plain).not.toContain('"level":30');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)));
      rmSync(otherDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a REDIS_URL that does not answer stops start-up, naming the variable; a live one is used, and let go at SIGTERM', async () => {
    const port = await freePort();
    const down = start({ REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` });
    expect(await down.settled).toEqual({ code: 1, listening: false });
    const { stderr } = down.output();
    expect(stderr).toContain(`REDIS_URL: Redis at redis://:***@127.0.0.1:${port} did not answer: connect ECONNREFUSED`);
    expect(stderr).toContain('unset it to keep chat turns and counters in this process\'s memory');
    expect(stderr).not.toContain('s3cret');
    expect(stderr).not.toMatch(/\n\s+at /);

    const up = start({ REDIS_URL: inject('redisUrl') });
    try {
      const { listening } = await up.settled;
      expect(listening, up.output().stderr).toBe(true);
      expect(up.output().stdout).toMatch(/store: pglite in .*, KV: redis,/);
    } finally {
      up.child.kill('SIGTERM');
      const code = await new Promise((done) => (up.child.exitCode !== null ? done(up.child.exitCode) : up.child.once('exit', done)));
      expect(code).toBe(0);
    }
  }, 60_000);

  it('with UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH=true it starts, and warns on stderr and in the log', async () => {
    const run = start({ HOST: '0.0.0.0', UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH: 'true' });
    try {
      const { listening } = await run.settled;
      const { stdout, stderr } = run.output();
      expect(listening, stderr).toBe(true);
      const port = /listening on http:\/\/0\.0\.0\.0:(\d+)/.exec(stdout)![1];
      expect(stderr).toMatch(/^WARNING: UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH=true: HOST=0\.0\.0\.0 .*AUTH_MODE=local/m);
      const logged = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      expect(logged).toContainEqual(expect.objectContaining({ level: 40, host: '0.0.0.0', msg: expect.stringContaining('UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH') }));
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      run.child.kill('SIGTERM');
      await new Promise((done) => (run.child.exitCode !== null ? done(null) : run.child.once('exit', done)));
    }
  }, 60_000);
});
