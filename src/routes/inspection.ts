import { createRoute, z } from '@hono/zod-openapi';
import { inspectRequest } from '../../tools/definitions/inspection.ts';
import { inspectionView } from '../dagster/source-inspection.ts';
import type { Domain } from '../domain.ts';
import { EXAMPLE_ENVIRONMENT } from './examples.ts';
import { createRouter, dagsterErrorResponses, errorResponses, jsonBody, jsonResponse } from './router.ts';

const inspect = createRoute({
  method: 'post',
  path: '/v1/environments/{env}/inspect-source',
  summary: "Inspect a source block's database from inside an environment",
  description:
    "Runs a small job in the environment's Dagster with the source block's config: it connects with the secret the config names (read there, never by this service), lists the tables, and describes the config's table (or `table`): columns with logical types, and a few sample rows. A connection or table that fails answers ok: false with the reason, never the secret.",
  request: {
    params: z.object({ env: z.string().min(1).openapi({ example: EXAMPLE_ENVIRONMENT }) }),
    ...jsonBody(inspectRequest.strict(), 'The source block', { block_type: 'postgres_incremental_extract', config: { table: 'public.customers', connection_secret: 'POSTGRES_URL' } }),
  },
  responses: { 200: jsonResponse(inspectionView, 'What the job saw'), ...errorResponses, ...dagsterErrorResponses },
});

/** The same service operation as the inspect_source tool. */
export function inspectionRoutes({ inspection }: Domain) {
  return createRouter().openapi(inspect, async (c) =>
    c.json(await inspection.inspect(c.var.principal, c.req.valid('param').env, { ...c.req.valid('json'), requestId: c.var.requestId }), 200),
  );
}
