import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Metrics } from './metrics.ts';

/**
 * Counts each answered request by method, route pattern and status. The pattern is the route that
 * matched (`/v1/pipelines/:id`), never the path sent: paths carry ids, and a label per id would
 * grow without end. A request no route serves counts as `unmatched`, whatever path it named.
 */
export function countRequests(metrics: Metrics): MiddlewareHandler {
  return async function countRequests(c, next) {
    try {
      await next();
    } finally {
      metrics.httpRequest(c.req.method, routeOf(c), c.res.status);
    }
  };
}

/** The last route that matched: the handler's (middleware come before it); only middleware ('*') when none did. */
function routeOf(c: Parameters<MiddlewareHandler>[0]): string {
  const last = matchedRoutes(c).at(-1);
  return !last || (last.method === 'ALL' && (last.path === '*' || last.path === '/*')) ? 'unmatched' : last.path;
}
