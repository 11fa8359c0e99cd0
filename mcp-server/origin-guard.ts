import type { MiddlewareHandler } from 'hono';
import { mediaTypeRefusal } from '../src/routes/middleware.ts';
import { allowedHostSet, hostRefusal } from '../src/routes/origin-guard.ts';

const rpcRefusal = (status: 403 | 415, message: string) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }), { status, headers: { 'content-type': 'application/json' } });

/**
 * The service-wide request checks (src/routes: the Host/Origin check, and JSON for every POST)
 * answered in JSON-RPC's shape for /mcp, before the MCP transport sees the request. They stand in
 * for the app-wide ones there (app.ts mounts those on every other path). (The SDK's own Host/Origin
 * options are deprecated and their replacement is Express-only.)
 */
export function mcpRequestGuard(allowedHosts: readonly string[]): MiddlewareHandler {
  const allowed = allowedHostSet(allowedHosts);
  return async (c, next) => {
    const host = hostRefusal(c, allowed);
    if (host) return rpcRefusal(403, `${host.message} ${host.hint}`);
    const media = mediaTypeRefusal(c);
    if (media) return rpcRefusal(415, `${media.message} ${media.hint}`);
    await next();
  };
}
