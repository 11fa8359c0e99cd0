import { createRoute, z } from '@hono/zod-openapi';
import type { AppDomain } from '../app-domain.ts';
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

export function healthRoutes({ health: store }: AppDomain) {
  return createRouter().openapi(health, async (c) => {
    try {
      const { block_types } = await store.check();
      return c.json({ status: 'ok' as const, store: store.kind, block_types }, 200);
    } catch (error) {
      c.var.log.error({ err: error }, 'health check: store query failed');
      return c.json({ status: 'unavailable' as const, store: store.kind }, 503);
    }
  });
}
