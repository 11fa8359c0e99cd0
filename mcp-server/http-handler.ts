import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../src/auth/principal.ts';
import type { Logger } from '../src/logger.ts';

interface Session {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
  principal: Principal;
  lastSeen: number;
}

export interface McpHttpOptions {
  /** A new server for a new session: never one shared across clients. */
  newServer: (principal: Principal) => McpServer;
  logger: Logger;
  idleMs?: number;
}

const rpcError = (status: number, code: number, message: string) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'content-type': 'application/json' } });

/**
 * Streamable HTTP for /mcp, on the SDK's web-standard transport. An initialize request opens a
 * session with its own server and transport; later requests carry its Mcp-Session-Id. Sessions
 * live in this process's memory (elicitation answers arrive on later POSTs, so they need one), so
 * several instances need sticky routing on the Mcp-Session-Id header; an instance that does not
 * know a session answers 404 and the client starts a new one, as the protocol says.
 */
export function createMcpHttpHandler(opts: McpHttpOptions) {
  const sessions = new Map<string, Session>();
  const idleMs = opts.idleMs ?? 30 * 60_000;
  const sweep = setInterval(() => {
    const cutoff = Date.now() - idleMs;
    for (const [id, session] of sessions) {
      if (session.lastSeen < cutoff) {
        sessions.delete(id);
        void session.transport.close();
        void session.server.close();
      }
    }
  }, Math.min(idleMs, 60_000));
  sweep.unref();

  const handle = async (request: Request, principal: Principal): Promise<Response> => {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const session = sessions.get(sessionId);
      if (!session) return rpcError(404, -32001, 'Session not found: start a new one with initialize.');
      // A session belongs to whoever opened it.
      if (session.principal.userId !== principal.userId) return rpcError(404, -32001, 'Session not found: start a new one with initialize.');
      session.lastSeen = Date.now();
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST') return rpcError(400, -32000, 'Bad request: no Mcp-Session-Id; POST an initialize request first.');
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return rpcError(400, -32700, 'Parse error: the body is not valid JSON.');
    }
    const initializes = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
    if (!initializes) return rpcError(400, -32000, 'Bad request: no Mcp-Session-Id; POST an initialize request first.');

    const server = opts.newServer(principal);
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport, principal, lastSeen: Date.now() });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    transport.onerror = (error) => opts.logger.warn({ err: error }, 'mcp transport error');
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  };

  return Object.assign(handle, {
    /** Closes every session (shutdown, tests). */
    async closeAll() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.server.close()));
      sessions.clear();
    },
    sessionCount: () => sessions.size,
  });
}
