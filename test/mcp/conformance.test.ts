// The official MCP conformance suite (@modelcontextprotocol/conformance) against our Streamable
// HTTP transport: the production guard + session handler, serving the suite's fixture tools,
// resources and prompts (test/mcp/fixtures/conformance-server.ts). Offline: loopback only.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { startConformanceServer, type ConformanceServer } from './fixtures/conformance-server.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'node_modules/.bin');
const expectedFailures: Record<string, string> = JSON.parse(readFileSync(join(import.meta.dirname, 'conformance-expected-failures.json'), 'utf8'));

interface Check {
  id: string;
  name: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  errorMessage?: string;
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** scenario id → its checks, from each results/server-<scenario>-<timestamp>/checks.json */
  scenarios: Map<string, Check[]>;
}

/** `conformance <args>` as a child process; its shebang's `node` is this project's Node 24. */
function conformance(args: string[], outputDir?: string): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(
      join(bin, 'conformance'),
      outputDir ? [...args, '--output-dir', outputDir] : args,
      { cwd: root, env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` }, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return fail(error);
        const scenarios = new Map<string, Check[]>();
        for (const dir of outputDir && existsSync(outputDir) ? readdirSync(outputDir) : []) {
          const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir);
          if (match) scenarios.set(match[1]!, JSON.parse(readFileSync(join(outputDir!, dir, 'checks.json'), 'utf8')));
        }
        done({ code: error ? (error.code as number) : 0, stdout, stderr, scenarios });
      },
    );
  });
}

/** "scenario: check — message" for every FAILURE check. */
const failuresOf = (scenarios: Map<string, Check[]>) =>
  new Map([...scenarios].map(([id, checks]) => [id, checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.name}${c.errorMessage ? ` — ${c.errorMessage}` : ''}`)] as const).filter(([, f]) => f.length > 0));

const sink = (lines: Array<Record<string, unknown>>) =>
  new Writable({
    write(chunk, _enc, next) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      next();
    },
  });

describe('official MCP conformance suite against the production /mcp transport', () => {
  const logs: Array<Record<string, unknown>> = [];
  let server: ConformanceServer;
  let outputDir: string;
  let run: Run;

  beforeAll(async () => {
    server = await startConformanceServer({ logger: createLogger('warn', sink(logs)) });
    outputDir = mkdtempSync(join(tmpdir(), 'constellation-conformance-'));
    run = await conformance(['server', '--url', server.url], outputDir);
  });
  afterAll(async () => {
    await server?.close();
    if (outputDir) rmSync(outputDir, { recursive: true, force: true });
  });

  it('runs every active server scenario', async () => {
    const listed = await conformance(['list', '--server']);
    const all = [...listed.stdout.matchAll(/^\s+- ([\w-]+) \[/gm)].map((m) => m[1]!);
    expect(all.length).toBeGreaterThan(25);
    // The active suite is everything but the pending scenarios (SEP-1613's json-schema-2020-12 and
    // SEP-1699's server-sse-polling in 0.1.16); each one that ran left its checks.json.
    expect([...run.scenarios.keys()].sort()).toEqual(all.filter((s) => !['json-schema-2020-12', 'server-sse-polling'].includes(s)).sort());
    for (const id of ['server-initialize', 'tools-call-error', 'tools-call-elicitation', 'resources-subscribe', 'dns-rebinding-protection']) expect(run.scenarios.has(id)).toBe(true);
  });

  it('passes every active scenario, except the listed expected failures', () => {
    const failures = failuresOf(run.scenarios);
    const unexpected = [...failures].filter(([id]) => !(id in expectedFailures)).map(([id, f]) => `${id}: ${f.join('; ')}`);
    const stale = Object.keys(expectedFailures).filter((id) => run.scenarios.has(id) && !failures.has(id));
    expect(unexpected, `scenarios failing that conformance-expected-failures.json does not list`).toEqual([]);
    expect(stale, `scenarios listed in conformance-expected-failures.json that now pass (remove them)`).toEqual([]);
    expect(run.code, `conformance exited ${run.code}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`).toBe(failures.size > 0 ? 1 : 0);
    // Every scenario produced at least one pass/fail verdict, not just INFO lines.
    for (const [id, checks] of run.scenarios) expect(checks.some((c) => c.status === 'SUCCESS' || c.status === 'FAILURE'), id).toBe(true);
  });

  it('left no transport errors in the log', () => {
    expect(logs.filter((l) => l.msg === 'mcp transport error')).toEqual([]);
  });

  it('names a failing scenario when the transport misbehaves (a guard that lets any Host in)', async () => {
    const open = await startConformanceServer({ logger: createLogger('silent'), allowedHosts: ['127.0.0.1', 'evil.example.com'] });
    const dir = mkdtempSync(join(tmpdir(), 'constellation-conformance-neg-'));
    try {
      const bad = await conformance(['server', '--url', open.url, '--scenario', 'dns-rebinding-protection'], dir);
      expect(bad.code).toBe(1);
      expect([...failuresOf(bad.scenarios).keys()]).toEqual(['dns-rebinding-protection']);
    } finally {
      await open.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
