import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AuditLog } from '../auth/audit-log.ts';
import { outcomeOf } from '../auth/audit-log.ts';
import { callerOf } from '../dagster/policy.ts';
import type { AppEnv } from './router.ts';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Records every REST request that may change state (any method but GET, HEAD and OPTIONS) in the
 * audit log, after it is answered: the route's pattern as the action, its path params as the
 * target, the error code the caller saw as the outcome. Requests no route matched change nothing
 * and are left out. /mcp is left to the tool runner, which records each tool call there.
 */
export function auditWrites(audit: AuditLog): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (READS.has(c.req.method)) return next();
    await next();
    const pattern = routePath(c, -1);
    if (!pattern || pattern.endsWith('*')) return;
    const principal = c.get('principal');
    if (!principal) return;
    const status = c.res.status;
    await audit.record({
      principal,
      actor: callerOf(principal, 'rest') === 'model' ? 'agent' : 'person',
      surface: 'rest',
      action: `${c.req.method} ${pattern.replace(/:(\w+)/g, '{$1}')}`,
      target: c.req.param() as Record<string, string>,
      outcome: c.error ? outcomeOf(c.error) : status >= 400 ? `http_${status}` : 'ok',
      provenance: { request_id: c.get('requestId') },
    });
  };
}
