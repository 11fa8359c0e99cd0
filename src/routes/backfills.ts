import { createRoute, z } from '@hono/zod-openapi';
import { partitionFields } from '../../tools/definitions/backfills.ts';
import { backfillView } from '../../tools/definitions/shared.ts';
import type { Domain } from '../domain.ts';
import { createRouter, dagsterErrorResponses, errorResponses, jsonBody, jsonResponse, uuidParam } from './router.ts';

const backfillSchema = z.object(backfillView.shape).openapi('Backfill');


const startBackfill = createRoute({
  method: 'post',
  path: '/v1/pipelines/{id}/backfills',
  summary: 'Backfill partitions of a deployed, partitioned pipeline',
  description:
    'Runs a job once per partition, over `from`..`to` (both included) or the keys in `partitions`, at most 366, as a Dagster backfill (its daemon submits the runs). Every key must be a partition Dagster lists now: on or after start_date, before end_date, in a window that has ended. One key in `partitions` re-runs that partition.',
  request: {
    params: uuidParam('id'),
    ...jsonBody(
      z
        .object({
          environment: z.string().min(1).optional().openapi({ description: "Where it is deployed; the last deployment's environment by default" }),
          job: z.string().min(1).optional().openapi({ description: 'A job id; the all-blocks job by default' }),
          from: partitionFields.from,
          to: partitionFields.to,
          partitions: partitionFields.partitions,
        })
        .strict(),
      'Where, which job, which partitions',
    ),
  },
  responses: { 201: jsonResponse(backfillSchema, 'The backfill, as Dagster has it'), ...errorResponses, ...dagsterErrorResponses },
});

const getBackfill = createRoute({
  method: 'get',
  path: '/v1/pipelines/{id}/backfills/{backfill_id}',
  summary: "A backfill's progress: partitions done, failed and running, and each run",
  request: {
    params: z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }), backfill_id: z.string().min(1).openapi({ param: { name: 'backfill_id', in: 'path' } }) }),
    query: z.object({ environment: z.string().optional() }),
  },
  responses: { 200: jsonResponse(backfillSchema, 'The backfill'), ...errorResponses, ...dagsterErrorResponses },
});

/** Backfills: the same service operations as the backfill_pipeline tool and pipeline_status's backfill_id. */
export function backfillRoutes({ backfills }: Domain) {
  return createRouter()
    .openapi(startBackfill, async (c) => c.json(await backfills.start(c.var.principal, c.req.valid('param').id, { ...c.req.valid('json'), requestId: c.var.requestId }), 201))
    .openapi(getBackfill, async (c) => {
      const { id, backfill_id } = c.req.valid('param');
      return c.json(await backfills.get(c.var.principal, id, backfill_id, c.req.valid('query').environment), 200);
    });
}
