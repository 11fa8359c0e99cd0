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

const part = z.union([
  z.object({ status: z.literal('ok') }),
  z.object({ status: z.literal('failed'), code: z.string().openapi({ description: "The failure's stable code (its details are in the service's log)" }) }),
  z.object({ status: z.literal('not_applicable') }),
]);
const readinessReport = z
  .object({
    ready: z.boolean(),
    shutting_down: z.boolean(),
    store: part,
    kv: part,
    dagster: z.record(z.string(), part).openapi({ description: "Per environment: its Dagster's answer to a version query (not_applicable without a GraphQL URL)" }),
  })
  .openapi('Readiness');

const ready = createRoute({
  method: 'get',
  path: '/health/ready',
  summary: 'Readiness: the store, the KV and each environment\'s Dagster answer, and no shutdown has begun (GET /health is liveness)',
  responses: {
    200: jsonResponse(readinessReport, 'Ready for traffic'),
    503: jsonResponse(readinessReport, 'Not ready: the parts that failed say so, or shutting_down is true'),
  },
});

export function healthRoutes({ health: store, readiness }: AppDomain) {
  return createRouter()
    .openapi(ready, async (c) => {
      const report = await readiness.check();
      return c.json(report, report.ready ? 200 : 503);
    })
    .openapi(health, async (c) => {
      try {
        const { block_types } = await store.check();
        return c.json({ status: 'ok' as const, store: store.kind, block_types }, 200);
      } catch (error) {
        c.var.log.error({ err: error }, 'health check: store query failed');
        return c.json({ status: 'unavailable' as const, store: store.kind }, 503);
      }
    });
}
