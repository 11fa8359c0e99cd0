import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../errors.ts';
import { createPipelineFromBlocks } from '../pipelines/pipeline-from-blocks.ts';
import type { Services } from '../services.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, uuidParam } from './router.ts';
import { iso } from './serialize.ts';

/**
 * The Dagster microservice API of the seed, request and response bodies exactly as written there.
 * Paths answer with and without the trailing slash (see createApp).
 */
const createPipeline = createRoute({
  method: 'post',
  path: '/dagster/pipelines',
  summary: 'Create a new pipeline from connected blocks',
  description:
    'Builds the pipeline from the given blocks and the edges among them. `configuration` takes pipeline settings (schedule, timezone, environment, retry_policy, description) and per-block config overrides keyed by block UUID.',
  request: jsonBody(
    z
      .object({
        pipeline_name: z.string().min(1).max(200),
        block_ids: z.array(z.uuid({ message: 'must be a block UUID' })).min(1).max(2000),
        configuration: z.record(z.string(), z.unknown()).default({}).openapi({
          example: { schedule: '0 */6 * * *', environment: 'staging', retry_policy: { max_retries: 3, delay_seconds: 10 } },
        }),
      })
      .strict(),
    'PipelineCreateSchema',
  ),
  responses: {
    201: jsonResponse(
      z.object({ pipeline_id: z.uuid(), message: z.string(), deployment_status: z.literal('pending') }).openapi('PipelineResponseSchema'),
      'Created',
    ),
    ...errorResponses,
  },
});

const listPipelines = createRoute({
  method: 'get',
  path: '/dagster/pipelines',
  summary: 'List all pipelines',
  responses: {
    200: jsonResponse(
      z.object({ pipelines: z.array(z.object({ pipeline_id: z.uuid(), pipeline_name: z.string(), status: z.string(), created_at: z.string(), last_updated: z.string() })) }),
      'Pipelines',
    ),
  },
});

const status = createRoute({
  method: 'get',
  path: '/dagster/pipelines/{pipeline_id}/status',
  summary: 'Current status of a pipeline',
  description: "`status` is the latest run's, else the deployment's, else `pending`.",
  request: { params: uuidParam('pipeline_id') },
  responses: {
    200: jsonResponse(
      z.object({ pipeline_id: z.uuid(), status: z.string(), last_updated: z.string(), current_version: z.number().int(), deployment_status: z.string() }).openapi('PipelineStatusSchema'),
      'Status',
    ),
    ...errorResponses,
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/dagster/pipelines/{pipeline_id}',
  summary: 'Delete a pipeline',
  request: { params: uuidParam('pipeline_id') },
  responses: { 200: jsonResponse(z.object({ message: z.string() }), 'Deleted'), ...errorResponses },
});

const deploy = createRoute({
  method: 'post',
  path: '/dagster/pipelines/{pipeline_id}/deploy',
  summary: 'Deploy a pipeline to an environment (not built yet: 501)',
  request: { params: uuidParam('pipeline_id'), ...jsonBody(z.object({ environment: z.string().min(1) }).strict(), 'Target environment') },
  responses: { 501: jsonResponse(z.object({}).passthrough(), 'Not implemented yet'), ...errorResponses },
});

const compile = createRoute({
  method: 'post',
  path: '/dagster/compile',
  summary: 'Compile a code repository into block types (not built yet: 501)',
  request: jsonBody(z.object({ repo_url: z.string().min(1), branch: z.string().min(1) }).strict(), 'Repository and branch'),
  responses: { 501: jsonResponse(z.object({}).passthrough(), 'Not implemented yet'), 400: errorResponses[400] },
});

// Until deployments exist (the next piece of work), a pipeline's status is its deployment's: pending.
const NOT_DEPLOYED = 'pending';

export function dagsterRoutes(services: Services) {
  return createRouter()
    .openapi(createPipeline, async (c) => {
      const view = await createPipelineFromBlocks(c.var.principal, c.req.valid('json'), { blocks: services.blockRepo, pipelines: services.pipelines });
      return c.json({ pipeline_id: view.pipeline.id, message: 'Pipeline created successfully.', deployment_status: 'pending' as const }, 201);
    })
    .openapi(listPipelines, async (c) => {
      const rows = await services.pipelines.list(c.var.principal);
      return c.json({
        pipelines: rows.map((p) => ({ pipeline_id: p.id, pipeline_name: p.name, status: NOT_DEPLOYED, created_at: iso(p.created_at), last_updated: iso(p.updated_at) })),
      }, 200);
    })
    .openapi(status, async (c) => {
      const p = await services.pipelines.require(c.var.principal, c.req.valid('param').pipeline_id);
      return c.json({ pipeline_id: p.id, status: NOT_DEPLOYED, last_updated: iso(p.updated_at), current_version: p.current_version, deployment_status: NOT_DEPLOYED }, 200);
    })
    .openapi(remove, async (c) => {
      await services.pipelines.delete(c.var.principal, c.req.valid('param').pipeline_id);
      return c.json({ message: 'Pipeline deleted successfully.' }, 200);
    })
    .openapi(deploy, async (c) => {
      await services.pipelines.require(c.var.principal, c.req.valid('param').pipeline_id);
      throw new AppError('not_implemented:deploy', 'Deploying to Dagster is not built yet.', {
        hint: 'The pipeline is stored and validated; deployment arrives with the compile-and-deploy work.',
      });
    })
    .openapi(compile, async () => {
      throw new AppError('not_implemented:compile', 'Compiling code repositories is not built yet.', {
        hint: 'Block types come from the built-in catalog for now (GET /v1/block-types).',
      });
    });
}
