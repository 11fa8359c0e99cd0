import { serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createMcpServer } from '../../mcp-server/create-server.ts';
import { openDb } from '../../src/adapters/store/open-db.ts';
import { createApp } from '../../src/app.ts';
import { ensureLocalPrincipal } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { createLogger } from '../../src/logger.ts';
import { createServices } from '../../src/services.ts';
import { NO_LIMITS } from '../../src/auth/limits.ts';
import { quantile, type Row } from './measure.ts';

type Fetch = (request: Request) => Response | Promise<Response>;
interface Served {
  url: string;
  close(): Promise<void>;
}

async function serveOnSocket(fetch: Fetch): Promise<Served> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    async close() {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The baseline: the SDK alone. One McpServer with one trivial tool per session, on the same
 * WebStandardStreamableHTTPServerTransport session setup as ours (a session id per initialize,
 * later requests routed by Mcp-Session-Id), served by @hono/node-server with no router or
 * middleware.
 */
function bareSdkHandler(newServer: () => McpServer = trivialServer): Fetch {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  return async (request) => {
    const id = request.headers.get('mcp-session-id');
    if (id) return sessions.get(id)?.handleRequest(request) ?? new Response(null, { status: 404 });
    const server = newServer();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
      onsessionclosed: (sid) => void sessions.delete(sid),
    });
    await server.connect(transport);
    return transport.handleRequest(request);
  };
}

function trivialServer(): McpServer {
  const server = new McpServer({ name: 'bare', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes its query.', inputSchema: { query: z.string() } }, async ({ query }) => ({ content: [{ type: 'text', text: query }] }));
  return server;
}

/** One SDK client session; `call()` is one tools/call, timed. */
async function session(url: string, tool: string, args: Record<string, unknown>) {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  return {
    async call(): Promise<number> {
      const start = performance.now();
      const result = await client.callTool({ name: tool, arguments: args });
      const ms = performance.now() - start;
      if (result.isError) throw new Error(`bench ${tool} failed: ${JSON.stringify(result.content)}`);
      return ms;
    },
    async close() {
      await transport.terminateSession();
      await client.close();
    },
  };
}

type Session = Awaited<ReturnType<typeof session>>;

/** `n` sequential calls on one session: their latencies and the wall time they took. */
async function sequential(s: Session, n: number) {
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) samples.push(await s.call());
  return { samples, wallMs: performance.now() - start };
}

/** `n` calls spread over several sessions at once: the wall time they took. */
async function concurrent(sessions: Session[], n: number) {
  const per = Math.ceil(n / sessions.length);
  const start = performance.now();
  await Promise.all(sessions.map((s) => sequential(s, per)));
  return { calls: per * sessions.length, wallMs: performance.now() - start };
}

/**
 * tools/call search_block_types over Streamable HTTP against the real app on a socket (PGlite
 * store, built-in catalog), beside a bare SDK server answering a trivial tool, measured in the
 * same run with the same client setup: one session, sequential calls after a warm-up, alternating
 * blocks so machine noise falls on both alike; then a few concurrent clients, in alternating blocks too.
 */
export async function mcpBench(opts: { rounds?: number; perRound?: number; clients?: number } = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 12;
  const perRound = opts.perRound ?? 150;
  const clients = opts.clients ?? 4;

  const db = await openDb({});
  const workspaceDir = mkdtempSync(join(tmpdir(), 'constellation-mcp-bench-ws-'));
  const logger = createLogger('silent');
  const env = { name: 'development', workspaceDir, graphqlUrl: null, secrets: 'inherit' as const, python: DEFAULT_PYTHON, policy: { approval_required_for_model_deploys: false, allow_destructive: true } };
  const services = createServices(db, { limits: NO_LIMITS, environments: new Map([['development', env]]), logger });
  const principal = await ensureLocalPrincipal(db);
  await services.catalogRepo.upsert(loadManifests());
  const app = createApp({ domain: services.domain, logger, maxBodyBytes: 1024 * 1024, principal });
  // Our production MCP server (same tools, same store) on the bare SDK transport setup: the gap
  // between it and the app is what our /mcp stack (app middleware, origin guard, session handler)
  // costs; the gap between it and the trivial tool is the tool's own work.
  const approvals = services.approvals;
  const prodServer = () => createMcpServer({ domain: services.domain, logger, approvals, readOnly: false }, principal);

  const ours = await serveOnSocket(app.fetch);
  const bare = await serveOnSocket(bareSdkHandler());
  const bareProd = await serveOnSocket(bareSdkHandler(prodServer));
  const open: Session[] = [];
  const track = async (s: Promise<Session>) => {
    const opened = await s;
    open.push(opened);
    return opened;
  };
  try {
    const a = await track(session(ours.url, 'search_block_types', { query: 'postgres' }));
    const b = await track(session(bare.url, 'echo', { query: 'postgres' }));
    const c = await track(session(bareProd.url, 'search_block_types', { query: 'postgres' }));
    for (let i = 0; i < 200; i++) {
      await a.call();
      await b.call();
      await c.call();
    }
    const oursMs: number[] = [];
    const bareMs: number[] = [];
    let oursWall = 0;
    let bareWall = 0;
    let prodWall = 0;
    for (let r = 0; r < rounds; r++) {
      const x = await sequential(a, perRound);
      const y = await sequential(b, perRound);
      const z = await sequential(c, perRound);
      oursMs.push(...x.samples);
      bareMs.push(...y.samples);
      oursWall += x.wallMs;
      bareWall += y.wallMs;
      prodWall += z.wallMs;
    }
    const n = rounds * perRound;

    const as = await Promise.all(Array.from({ length: clients }, () => track(session(ours.url, 'search_block_types', { query: 'postgres' }))));
    const bs = await Promise.all(Array.from({ length: clients }, () => track(session(bare.url, 'echo', { query: 'postgres' }))));
    await concurrent(as, 100 * clients);
    await concurrent(bs, 100 * clients);
    let oursConc = { calls: 0, wallMs: 0 };
    let bareConc = { calls: 0, wallMs: 0 };
    for (let r = 0; r < rounds / 2; r++) {
      const x = await concurrent(as, perRound * clients);
      const y = await concurrent(bs, perRound * clients);
      oursConc = { calls: oursConc.calls + x.calls, wallMs: oursConc.wallMs + x.wallMs };
      bareConc = { calls: bareConc.calls + y.calls, wallMs: bareConc.wallMs + y.wallMs };
    }

    const bareBaseline = 'bare SDK server, trivial tool, same transport setup';
    return [
      { measure: `MCP tools/call search_block_types, 1 session, ${n} sequential calls`, unit: 'rps', value: (1000 * n) / oursWall, baseline: bareBaseline, baselineValue: (1000 * n) / bareWall, ratio: 'fraction', target: '>= 80%' },
      { measure: 'MCP tools/call search_block_types p50', value: quantile(oursMs, 0.5), baseline: 'bare SDK server p50', baselineValue: quantile(bareMs, 0.5), ratio: 'times', target: '' },
      { measure: 'MCP tools/call search_block_types p99', value: quantile(oursMs, 0.99), baseline: 'bare SDK server p99', baselineValue: quantile(bareMs, 0.99), ratio: 'times', target: '' },
      { measure: `MCP tools/call search_block_types, ${clients} concurrent sessions`, unit: 'rps', value: (1000 * oursConc.calls) / oursConc.wallMs, baseline: `${bareBaseline}, ${clients} sessions`, baselineValue: (1000 * bareConc.calls) / bareConc.wallMs, ratio: 'fraction', target: '>= 80%' },
      { measure: 'MCP search_block_types, our /mcp stack alone (sequential)', unit: 'rps', value: (1000 * n) / oursWall, baseline: 'same MCP server + tool on the bare SDK setup', baselineValue: (1000 * n) / prodWall, ratio: 'fraction', target: '(diagnostic)' },
    ];
  } finally {
    await Promise.allSettled(open.map((s) => s.close()));
    await ours.close();
    await bare.close();
    await bareProd.close();
    await db.close();
    rmSync(workspaceDir, { recursive: true, force: true });
  }
}
