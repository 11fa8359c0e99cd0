import type { Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Logger } from './logger.ts';

export interface ShutdownDeps {
  logger: Logger;
  /** The listening server (what @hono/node-server's serve returns). */
  server: Server | Http2Server;
  /** Marks the instance not ready, so a load balancer stops sending to it. */
  markNotReady(): void;
  /** Lets running chat turns finish for up to `ms`, then ends the rest with a retry error (ChatService.drain). */
  drainChats(ms: number): Promise<{ running: number; cut: number }>;
  drainMs: number;
  closeMcpSessions(): Promise<void>;
  /** What to close last, in order (the deploy worker, the store, the KV...). */
  closers: Array<{ name: string; close: () => Promise<void> }>;
  /** How long open connections may take to end once the turns have (default 5 s); the rest are cut. */
  connectionGraceMs?: number;
}

/**
 * A graceful stop, one log line per step: stop accepting connections and say not ready; let running
 * chat turns finish until the drain deadline, then end the rest with an error chunk that tells the
 * client to send again (a model's stream cannot move to another process); close the MCP sessions
 * and the connections left; then the pools. Resolves when everything is closed.
 */
export async function shutDown(deps: ShutdownDeps, signal: string): Promise<void> {
  const { logger: log, server } = deps;
  deps.markNotReady();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  log.info({ signal }, 'shutdown: not ready, and no new connections are accepted');

  const { running, cut } = await deps.drainChats(deps.drainMs);
  log.info({ running, cut, drain_seconds: deps.drainMs / 1000 }, cut ? 'shutdown: chat turns drained; those past the deadline were ended with a retry error' : 'shutdown: chat turns drained');

  await deps.closeMcpSessions();
  log.info('shutdown: MCP sessions closed');

  // The streams are over: idle keep-alive connections go now, busy ones get a moment to finish.
  if ('closeIdleConnections' in server) server.closeIdleConnections();
  const grace = setTimeout(() => ('closeAllConnections' in server ? server.closeAllConnections() : undefined), deps.connectionGraceMs ?? 5_000);
  await closed;
  clearTimeout(grace);
  log.info('shutdown: connections closed');

  for (const { name, close } of deps.closers) {
    await close();
    log.info(`shutdown: ${name} closed`);
  }
}
