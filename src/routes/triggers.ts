import { createRoute, z } from '@hono/zod-openapi';
import { triggerStatesView } from '../../tools/definitions/triggers.ts';
import type { Domain } from '../domain.ts';
import { EXAMPLE_ENVIRONMENT } from './examples.ts';
import { createRouter, dagsterErrorResponses, errorResponses, jsonBody, jsonResponse, uuidParam } from './router.ts';

const body = jsonBody(
  z.object({ environment: z.string().min(1).optional().openapi({ description: 'One environment; every environment the pipeline is deployed to when omitted', example: EXAMPLE_ENVIRONMENT }) }).strict(),
  'Where',
);
const responses = {
  200: jsonResponse(triggerStatesView, "The pipeline's schedules and sensors after the change"),
  ...errorResponses,
  ...dagsterErrorResponses,
};

const pause = createRoute({
  method: 'post',
  path: '/v1/pipelines/{id}/triggers/pause',
  summary: "Pause a pipeline's schedules and sensors",
  description: 'Stops every schedule and sensor of the deployed pipeline in Dagster, without deleting it; the pause is recorded and survives redeploys until resumed.',
  request: { params: uuidParam('id'), ...body },
  responses,
});

const resume = createRoute({
  method: 'post',
  path: '/v1/pipelines/{id}/triggers/resume',
  summary: "Resume a pipeline's schedules and sensors",
  request: { params: uuidParam('id'), ...body },
  responses,
});

/** Pause and resume, the same service operation as the set_trigger_state tool. */
export function triggerRoutes({ triggers }: Domain) {
  return createRouter()
    .openapi(pause, async (c) => c.json(await triggers.set(c.var.principal, c.req.valid('param').id, true, c.req.valid('json')), 200))
    .openapi(resume, async (c) => c.json(await triggers.set(c.var.principal, c.req.valid('param').id, false, c.req.valid('json')), 200));
}
