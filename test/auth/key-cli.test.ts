import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeyCommand } from '../../src/cli/key-command.ts';
import { removeOnExit, spawnServer, type ServerProcess } from '../support/server-processes.ts';

// The keys CLI: on the embedded store it opens the store itself when no service holds it, and goes
// through the running service (its operator token) when one does.

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');

async function run(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeyCommand(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const keyOf = (out: string) => /^\s+(cak_\S+)$/m.exec(out)![1]!;
const idOf = (out: string) => /^Key (\S+)/m.exec(out)![1]!;

/** create, list, rotate, revoke, in order, against whatever the env points at. */
async function lifecycle(env: Record<string, string>, check: (key: string, alive: boolean) => Promise<void> = async () => undefined) {
  const created = await run(['create', '--org', 'acme', '--user', 'ada', '--kind', 'agent', '--name', 'claude'], env);
  expect(created.code, created.err).toBe(0);
  expect(created.out).toContain('Created org "acme"');
  expect(created.out).toContain('with role admin');
  expect(created.out).toMatch(/will not be shown again/);
  const key = keyOf(created.out);
  await check(key, true);

  const listed = await run(['list', '--org', 'acme'], env);
  expect(listed.code).toBe(0);
  expect(listed.out).toContain(idOf(created.out));
  expect(listed.out).toContain('agent');
  expect(listed.out).not.toContain(key);

  const rotated = await run(['rotate', idOf(created.out)], env);
  expect(rotated.code, rotated.err).toBe(0);
  const next = keyOf(rotated.out);
  expect(next).not.toBe(key);
  await check(key, false);
  await check(next, true);

  const revoked = await run(['revoke', idOf(rotated.out)], env);
  expect(revoked.code, revoked.err).toBe(0);
  expect(revoked.out).toMatch(/^Revoked .* revoked /);
  await check(next, false);

  const unknown = await run(['revoke', '00000000-0000-4000-8000-00000000abcd'], env);
  expect(unknown.code).toBe(1);
  expect(unknown.err).toContain('No active API key');
  const noOrg = await run(['list', '--org', 'nobody'], env);
  expect(noOrg.code).toBe(1);
  expect(noOrg.err).toContain('No org named "nobody"');
}

describe('npm run key: arguments', () => {
  it('bad arguments → a usage message naming the flag, exit code 2, before any store is opened', async () => {
    const env = { DATA_DIR: '/nonexistent/never-opened' };
    for (const [argv, says] of [
      [['create', '--org', 'acme'], '--user'],
      [['create', '--user', 'ada'], '--org'],
      [['create', '--org', 'a', '--user', 'b', '--role', 'owner'], '--role'],
      [['create', '--org', 'a', '--user', 'b', '--kind', 'robot'], '--kind'],
      [['create', '--org', 'a', '--user', 'b', '--colour', 'red'], '--colour'],
      [['list'], '--org'],
      [['rotate'], '<key-id>'],
      [['revoke', 'not-a-uuid'], '<key-id>'],
      [['launch'], 'Unknown command "launch"'],
      [[], 'Which command'],
    ] as const) {
      const res = await run([...argv], env);
      expect(res.code, argv.join(' ')).toBe(2);
      expect(res.err, argv.join(' ')).toContain(says);
      expect(res.err).toContain('Usage:');
    }
  });

  it('the npm script entry exits with that code', () => {
    const res = spawnSync(NODE, [join(ROOT, 'src/cli/key.ts'), 'list'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('list needs --org');
  });
});

describe('npm run key: no service running, the embedded store opened directly', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'constellation-keys-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates org and user, lists, rotates, revokes', async () => {
    await lifecycle({ DATA_DIR: dataDir });
  }, 60_000);

  it('a service.json whose process is gone is ignored', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, 'service.json'), JSON.stringify({ pid: 2 ** 22 + 12345, url: 'http://127.0.0.1:1' }));
    writeFileSync(join(dataDir, 'operator.token'), 'stale');
    const res = await run(['create', '--org', 'acme', '--user', 'bo'], { DATA_DIR: dataDir });
    expect(res.code, res.err).toBe(0);
    expect(res.out).not.toContain('Created org');
    expect(res.out).toContain('with role editor');
  }, 30_000);
});

describe('npm run key: through the running service (it holds the embedded store)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'constellation-keys-svc-'));
  const release = removeOnExit(dataDir, () => rmSync(dataDir, { recursive: true, force: true }));
  let server: ServerProcess;
  let url: string;

  beforeAll(async () => {
    server = spawnServer(NODE, [join(ROOT, 'src/server.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: '0', AUTH_MODE: 'required', DAGSTER_GRAPHQL_URL: 'none', DEPLOY_WORKERS: '0', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const serviceFile = join(dataDir, 'service.json');
    for (let waited = 0; !existsSync(serviceFile); waited += 100) {
      if (server.failure()) throw server.failure();
      if (waited > 30_000) throw new Error('the service did not write service.json');
      await new Promise((r) => setTimeout(r, 100));
    }
    url = JSON.parse(readFileSync(serviceFile, 'utf8')).url;
  }, 40_000);

  afterAll(async () => {
    await server.stop();
    release();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes service.json and an owner-only operator token', () => {
    expect(JSON.parse(readFileSync(join(dataDir, 'service.json'), 'utf8'))).toEqual({ pid: server.child.pid, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(statSync(join(dataDir, 'operator.token')).mode & 0o777).toBe(0o600);
  });

  it('creates, lists, rotates and revokes through the service; the keys work on it at once', async () => {
    const me = async (key: string) => (await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${key}` } })).status;
    await lifecycle({ DATA_DIR: dataDir }, async (key, alive) => expect(await me(key)).toBe(alive ? 200 : 401));
  }, 30_000);

  it('operator routes take only the operator token: not an API key, not a wrong token', async () => {
    const created = await run(['create', '--org', 'acme', '--user', 'root', '--role', 'admin'], { DATA_DIR: dataDir });
    const key = keyOf(created.out);
    for (const authorization of [`Bearer ${key}`, 'Operator wrong', `Operator ${key}`, '']) {
      const res = await fetch(`${url}/v1/operator/keys?org=acme`, { headers: authorization ? { authorization } : {} });
      expect(res.status, authorization).toBe(401);
    }
    const token = readFileSync(join(dataDir, 'operator.token'), 'utf8').trim();
    expect((await fetch(`${url}/v1/operator/keys?org=acme`, { headers: { authorization: `Operator ${token}` } })).status).toBe(200);
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    expect(Object.keys(doc.paths).filter((p) => p.includes('operator'))).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/v1/api-keys');
  });

  it('the stdio MCP entry bridges to it with CONSTELLATION_API_KEY as its bearer token', async () => {
    const created = await run(['create', '--org', 'acme', '--user', 'claude', '--kind', 'agent', '--role', 'editor'], { DATA_DIR: dataDir });
    const connect = async (key?: string) => {
      const transport = new StdioClientTransport({
        command: NODE,
        args: [join(ROOT, 'mcp-server/stdio.ts')],
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, MCP_SERVICE_URL: `${url}/mcp`, LOG_LEVEL: 'warn', ...(key ? { CONSTELLATION_API_KEY: key } : {}) },
        stderr: 'ignore',
      });
      const client = new Client({ name: 'key-test', version: '1.0.0' });
      try {
        await client.connect(transport);
        return (await client.listTools()).tools.length;
      } finally {
        await client.close().catch(() => undefined);
      }
    };
    expect(await connect(keyOf(created.out))).toBeGreaterThan(0);
    await expect(connect()).rejects.toThrow();
  }, 30_000);

  it('a clean stop removes service.json and the token', async () => {
    await server.stop();
    expect(existsSync(join(dataDir, 'service.json'))).toBe(false);
    expect(existsSync(join(dataDir, 'operator.token'))).toBe(false);
  }, 20_000);
});

