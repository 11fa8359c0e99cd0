import { createRoute, z } from '@hono/zod-openapi';
import { AUDIT_PAGE_MAX } from '../auth/audit-log.ts';
import type { Domain } from '../domain.ts';
import { createRouter, errorResponses, errorSchema, jsonResponse } from './router.ts';
import { iso } from './serialize.ts';

const entry = z
  .object({
    id: z.string().openapi({ description: 'Increasing; pass the last one as `before` for the next page' }),
    user_id: z.string(),
    actor_kind: z.enum(['person', 'agent']),
    surface: z.enum(['rest', 'mcp', 'chat', 'cli']),
    action: z.string().openapi({ example: 'POST /v1/pipelines/{id}/deploy' }),
    target: z.record(z.string(), z.unknown()),
    outcome: z.string().openapi({ description: '"ok", or the error code the caller saw (forbidden:approval_required while a call waits for a person)', example: 'ok' }),
    provenance: z.record(z.string(), z.unknown()),
    at: z.string(),
  })
  .openapi('AuditEntry');

const list = createRoute({
  method: 'get',
  path: '/v1/audit',
  summary: "Your org's state-changing actions, newest first (admins only)",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(50),
      before: z.string().regex(/^\d{1,18}$/, 'an entry id').optional().openapi({ description: 'Only entries older than this id' }),
    }),
  },
  responses: { 200: jsonResponse(z.object({ entries: z.array(entry) }), 'Entries'), 403: jsonResponse(errorSchema, 'Not an admin of this org'), ...errorResponses },
});

export function auditRoutes({ audit }: Domain) {
  return createRouter().openapi(list, async (c) => {
    const rows = await audit.list(c.var.principal, c.req.valid('query'));
    return c.json({ entries: rows.map((r) => ({ ...r, actor_kind: r.actor_kind as 'person' | 'agent', surface: r.surface as 'rest', at: iso(r.at) })) }, 200);
  });
}
