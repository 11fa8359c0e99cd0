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
  /** A session nobody used for this long is closed (MCP_SESSION_IDLE_SECONDS). */
  idleMs?: number;
  /** Sessions one principal may hold; a new one beyond it closes their least recently used (MCP_MAX_SESSIONS_PER_PRINCIPAL). */
  maxSessionsPerPrincipal?: number;
  /** Told when a session opens and when it ends, however it ends (the MCP sessions gauge). */
  sessions?: { opened(): void; closed(): void };
  /**
   * No sessions: a fresh server and transport answer each request and are dropped with it. For
   * runtimes where the next request may reach another isolate and nothing outlives a request
   * (Cloudflare Workers); elicitation, whose answer arrives on a later POST, is then unavailable.
   */
  stateless?: boolean;
}

export const DEFAULT_MCP_SESSION_IDLE_MS = 600_000;
export const DEFAULT_MCP_SESSIONS_PER_PRINCIPAL = 16;

const rpcError = (status: number, code: number, message: string) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'content-type': 'application/json' } });

const principalKey = (p: Principal) => `${p.orgId}:${p.userId}`;

/**
 * Streamable HTTP for /mcp, on the SDK's web-standard transport. An initialize request opens a
 * session with its own server and transport; later requests carry its Mcp-Session-Id. Sessions
 * live in this process's memory (elicitation answers arrive on later POSTs, so they need one), so
 * several instances need sticky routing on the Mcp-Session-Id header; an instance that does not
 * know a session answers 404 and the client starts a new one, as the protocol says. Each session
 * holds a server, so they are bounded: per principal (the least recently used goes first) and by
 * idle time.
 */
export function createMcpHttpHandler(opts: McpHttpOptions) {
  if (opts.stateless) return statelessHandler(opts);
  const sessions = new Map<string, Session>();
  /** Per principal, their session ids from least to most recently used. */
  const byPrincipal = new Map<string, Set<string>>();
  const idleMs = opts.idleMs ?? DEFAULT_MCP_SESSION_IDLE_MS;
  const cap = opts.maxSessionsPerPrincipal ?? DEFAULT_MCP_SESSIONS_PER_PRINCIPAL;

  const forget = (id: string) => {
    const session = sessions.get(id);
    if (!session) return undefined;
    sessions.delete(id);
    opts.sessions?.closed();
    const own = byPrincipal.get(principalKey(session.principal));
    own?.delete(id);
    if (own?.size === 0) byPrincipal.delete(principalKey(session.principal));
    return session;
  };
  const close = (id: string) => {
    const session = forget(id);
    if (!session) return;
    void session.transport.close().catch(() => undefined);
    void session.server.close().catch(() => undefined);
  };
  const touch = (id: string, session: Session) => {
    session.lastSeen = Date.now();
    const own = byPrincipal.get(principalKey(session.principal)) ?? new Set<string>();
    own.delete(id);
    own.add(id);
    byPrincipal.set(principalKey(session.principal), own);
  };
  const open = (id: string, session: Session) => {
    const own = byPrincipal.get(principalKey(session.principal));
    // Oldest first: a Set keeps insertion order, and touch re-inserts.
    while (own && own.size >= cap) close(own.values().next().value!);
    sessions.set(id, session);
    opts.sessions?.opened();
    touch(id, session);
  };

  // Often enough that a session outlives its idle time by at most a quarter of it, and by a minute at most.
  const sweep = setInterval(() => {
    const cutoff = Date.now() - idleMs;
    for (const [id, session] of sessions) if (session.lastSeen < cutoff) close(id);
  }, Math.max(10, Math.min(Math.floor(idleMs / 4), 60_000)));
  sweep.unref();

  const handle = async (request: Request, principal: Principal): Promise<Response> => {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const session = sessions.get(sessionId);
      if (!session) return rpcError(404, -32001, 'Session not found: start a new one with initialize.');
      // A session belongs to whoever opened it.
      if (session.principal.userId !== principal.userId) return rpcError(404, -32001, 'Session not found: start a new one with initialize.');
      touch(sessionId, session);
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
      onsessioninitialized: (id) => open(id, { server, transport, principal, lastSeen: Date.now() }),
      // The client ended it (DELETE): the transport is closing itself.
      onsessionclosed: (id) => void forget(id),
    });
    transport.onerror = (error) => opts.logger.warn({ err: error }, 'mcp transport error');
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  };

  return Object.assign(handle, {
    /** Closes every session (shutdown, tests). */
    async closeAll() {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map((id) => forget(id)?.server.close()));
    },
    sessionCount: () => sessions.size,
  });
}

/** One request, one server: what /mcp does with `stateless` (see McpHttpOptions). */
function statelessHandler(opts: McpHttpOptions) {
  const handle = async (request: Request, principal: Principal): Promise<Response> => {
    const server = opts.newServer(principal);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    transport.onerror = (error) => opts.logger.warn({ err: error }, 'mcp transport error');
    await server.connect(transport);
    return transport.handleRequest(request);
  };
  return Object.assign(handle, { async closeAll() {}, sessionCount: () => 0 });
}
