import { createRoute, z } from '@hono/zod-openapi';
import type { Services } from '../services.ts';
import { createRouter, jsonResponse } from './router.ts';

const health = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Liveness and store reachability',
  responses: {
    200: jsonResponse(z.object({ status: z.literal('ok'), store: z.enum(['pglite', 'postgres']), block_types: z.number().int() }), 'Healthy'),
    503: jsonResponse(z.object({ status: z.literal('unavailable'), store: z.string() }), 'The store does not answer'),
  },
});

export function healthRoutes({ db }: Services) {
  return createRouter().openapi(health, async (c) => {
    try {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM block_types WHERE is_latest');
      return c.json({ status: 'ok' as const, store: db.kind, block_types: row?.n ?? 0 }, 200);
    } catch (error) {
      c.var.log.error({ err: error }, 'health check: store query failed');
      return c.json({ status: 'unavailable' as const, store: db.kind }, 503);
    }
  });
}
