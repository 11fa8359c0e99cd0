import type { MiddlewareHandler } from 'hono';

/**
 * DNS-rebinding protection for /mcp, written as Hono middleware (the SDK's own Host/Origin options
 * are deprecated and their replacement is Express-only). The Host must be one of ours; an Origin,
 * when a browser sends one, must be too. Anything else gets 403 before the MCP transport sees it.
 */
export function mcpOriginGuard(allowedHosts: readonly string[]): MiddlewareHandler {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  const hostname = (value: string) => {
    try {
      return new URL(`http://${value}`).hostname.toLowerCase();
    } catch {
      return null;
    }
  };
  const refuse = (message: string) =>
    new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }), { status: 403, headers: { 'content-type': 'application/json' } });

  return async (c, next) => {
    // In-process requests (app.request, Workers) may carry no Host header: the URL's host is it.
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    const name = host ? hostname(host) : null;
    if (!name || !allowed.has(name)) return refuse(`Host "${host ?? ''}" is not allowed for /mcp; set MCP_ALLOWED_HOSTS to serve it.`);
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      let originHost: string | null = null;
      try {
        originHost = new URL(origin).hostname.toLowerCase();
      } catch {
        originHost = null;
      }
      if (!originHost || !allowed.has(originHost)) return refuse(`Origin "${origin}" is not allowed for /mcp.`);
    }
    await next();
  };
}
