import { callerOf } from '../dagster/policy.ts';
import { createRoute, z } from '@hono/zod-openapi';
import { compileOutcome } from '../code-repos/code-compile-service.ts';
import type { Domain } from '../domain.ts';
import { createRouter, errorResponses, errorSchema, jsonBody, jsonResponse, uuidParam } from './router.ts';
import { EXAMPLE_ENVIRONMENT } from './examples.ts';
import { iso } from './serialize.ts';

/**
 * The Dagster microservice API of the seed, request and response bodies exactly as written there.
 * Paths answer with and without the trailing slash (see createApp).
 */
const createPipeline = createRoute({
  method: 'post',
  path: '/dagster/pipelines',
  summary: 'Create a new pipeline from connected blocks',
  description: [
    'Builds the pipeline from the given blocks and the edges among them. `configuration` takes pipeline settings and per-block config overrides keyed by block UUID. Settings:',
    '- `description`, `environment`, `retry_policy` ({max_retries, delay_seconds, backoff?, jitter?});',
    '- `schedule`: one cron (a string, or {cron, timezone?}), and `timezone`, the default zone of every schedule;',
    '- `jobs`: [{id or name, blocks, checks?, description?}], each a selection of blocks (their UUIDs from block_ids, or the ids/names the pipeline gives them); `checks: false` runs no asset check (an emergency refresh);',
    '- `schedules`: [{cron, timezone?, job?, id?, description?}], several crons, each running a job (by id or name; omitted runs every block);',
    '- `sensors`: [{type, config, job?, id?, description?}], e.g. file_arrival_sensor@1, github_release_sensor@1, data_quality_alert_sensor@1 (config as their block type\'s config_schema, GET /v1/block-types/{slug}).',
    'A bad entry answers 400 with an issue at its path, e.g. /configuration/jobs/0/blocks/1.',
  ].join('\n'),
  request: jsonBody(
    z
      .object({
        pipeline_name: z.string().min(1).max(200),
        block_ids: z.array(z.uuid({ message: 'must be a block UUID' })).min(1).max(2000),
        configuration: z.record(z.string(), z.unknown()).default({}).openapi({
          description: 'Pipeline settings (description, environment, retry_policy, schedule, timezone, jobs, schedules, sensors) and per-block config overrides keyed by block UUID; see the operation description.',
          example: {
            environment: EXAMPLE_ENVIRONMENT,
            retry_policy: { max_retries: 3, delay_seconds: 10 },
            jobs: [
              { name: 'Daily full pipeline', blocks: ['3f0c8a52-8d7e-4a55-9d7a-0d6c2b1e9a10', '7b1e2c3d-4f5a-4b6c-8d9e-0a1b2c3d4e5f'] },
              { id: 'emergency_refresh', blocks: ['3f0c8a52-8d7e-4a55-9d7a-0d6c2b1e9a10', '7b1e2c3d-4f5a-4b6c-8d9e-0a1b2c3d4e5f'], checks: false },
            ],
            schedules: [
              { cron: '0 2 * * *', timezone: 'UTC', job: 'Daily full pipeline' },
              { cron: '0 */6 * * *' },
            ],
            sensors: [
              { type: 'github_release_sensor@1', job: 'emergency_refresh', config: { repository: 'dagster-io/dagster' } },
              { type: 'file_arrival_sensor@1', config: { local_directory: '/data/incoming', pattern: '*.csv' } },
            ],
            '3f0c8a52-8d7e-4a55-9d7a-0d6c2b1e9a10': { batch_size: 500 },
          },
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
  description:
    "`status` is the latest run's (running, completed, failed), else the latest deployment's (pending, in_progress, deployed, written, failed), else `pending`. Extra fields say which, with Dagster's own run status and a link to the run.",
  request: { params: uuidParam('pipeline_id') },
  responses: {
    200: jsonResponse(
      z
        .object({
          pipeline_id: z.uuid(),
          status: z.string(),
          last_updated: z.string(),
          current_version: z.number().int(),
          deployment_status: z.string(),
          deployment: z.object({ id: z.uuid(), version: z.number().int(), environment: z.string(), status: z.string(), message: z.string().nullable(), error: z.string().nullable() }).nullable(),
          run: z.object({ run_id: z.string(), status: z.string(), dagster_status: z.string(), version: z.number().int().nullable(), url: z.string(), started_at: z.string().nullable(), ended_at: z.string().nullable() }).nullable(),
          dagster_error: z.string().nullable(),
        })
        .openapi('PipelineStatusSchema'),
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
  summary: 'Deploy the current version of a pipeline to an environment',
  description: 'Checked at once (environment, compile, secrets), then carried out in the background: follow it with GET …/status/.',
  request: { params: uuidParam('pipeline_id'), ...jsonBody(z.object({ environment: z.string().min(1).openapi({ example: EXAMPLE_ENVIRONMENT }) }).strict(), 'Target environment') },
  responses: {
    202: jsonResponse(
      z.object({ pipeline_id: z.uuid(), message: z.string(), deployment_status: z.literal('in_progress') }).openapi('DeploymentStatusSchema'),
      'Deployment initiated',
    ),
    ...errorResponses,
    501: jsonResponse(errorSchema, 'A block the block library does not implement yet'),
  },
});

const compile = createRoute({
  method: 'post',
  path: '/dagster/compile',
  summary: 'Compile a code repository into block types',
  description: [
    'Clones the branch, checks each block type it holds (blocks/<name>.json manifests, python/ code, requirements.txt; see docs/code-repositories.md) and registers the good ones in your org\'s catalog as `<namespace>__<name>@<version>`.',
    'The URL and branch are checked at once (https only, public hosts; a bad one answers 400 naming the field); the rest runs in the background: follow it with GET /dagster/compile/{compile_id}.',
  ].join('\n'),
  request: jsonBody(
    z.object({ repo_url: z.string().min(1).openapi({ example: 'https://github.com/acme/etl-blocks.git' }), branch: z.string().min(1).openapi({ example: 'main' }) }).strict(),
    'Repository and branch',
  ),
  responses: {
    202: jsonResponse(
      z.object({ compile_id: z.uuid(), message: z.string(), status: z.literal('in_progress') }).openapi('CompileResponseSchema'),
      'Compilation initiated',
    ),
    ...errorResponses,
  },
});

const compileStatus = createRoute({
  method: 'get',
  path: '/dagster/compile/{compile_id}',
  summary: 'The outcome of a code repository compile',
  description: '`status` is in_progress, completed (at least one block type registered, or nothing changed since the last compile) or failed (nothing usable). `registered` lists the block type versions this compile added; `errors` every problem, each naming the file, field or block.',
  request: { params: uuidParam('compile_id') },
  responses: {
    200: jsonResponse(
      z
        .object({
          compile_id: z.uuid(),
          status: z.enum(['in_progress', 'completed', 'failed']),
          repo_url: z.string(),
          branch: z.string(),
          commit: z.string().nullable(),
          registered: z.array(z.string()),
          errors: z.array(z.object({ file: z.string().optional(), path: z.string().optional(), block: z.string().optional(), message: z.string(), hint: z.string().optional() })),
          created_at: z.string(),
          finished_at: z.string().nullable(),
        })
        .openapi('CompileStatusSchema'),
      'The compile',
    ),
    ...errorResponses,
  },
});

export function dagsterRoutes({ blocks, status: statuses, deployments, codeRepos }: Domain) {
  return createRouter()
    .openapi(createPipeline, async (c) => {
      const view = await blocks.pipelineFrom(c.var.principal, c.req.valid('json'));
      return c.json({ pipeline_id: view.pipeline.id, message: 'Pipeline created successfully.', deployment_status: 'pending' as const }, 201);
    })
    .openapi(listPipelines, async (c) => {
      const rows = await statuses.list(c.var.principal);
      return c.json({
        pipelines: rows.map(({ pipeline: p, status, last_updated }) => ({ pipeline_id: p.id, pipeline_name: p.name, status, created_at: iso(p.created_at), last_updated: iso(last_updated) })),
      }, 200);
    })
    .openapi(status, async (c) => {
      const s = await statuses.of(c.var.principal, c.req.valid('param').pipeline_id);
      const { pipeline: p, deployment: d } = s;
      return c.json({
        pipeline_id: p.id,
        status: s.status,
        last_updated: iso(s.last_updated),
        current_version: p.current_version,
        deployment_status: d?.status ?? 'pending',
        deployment: d ? { id: d.id, version: d.version, environment: d.environment, status: d.status, message: d.message, error: d.error } : null,
        run: s.run ? { run_id: s.run.run_id, status: s.run.status, dagster_status: s.run.dagster_status, version: s.run.version, url: s.run.url, started_at: s.run.started_at, ended_at: s.run.ended_at } : null,
        dagster_error: s.dagster_error,
      }, 200);
    })
    .openapi(remove, async (c) => {
      const { pipeline_id } = c.req.valid('param');
      await deployments.deletePipeline(c.var.principal, pipeline_id, callerOf(c.var.principal, 'rest'));
      return c.json({ message: 'Pipeline deleted successfully.' }, 200);
    })
    .openapi(deploy, async (c) => {
      const { pipeline_id } = c.req.valid('param');
      // The seed's body exactly; the deployment itself is at GET /v1/pipelines/{id}/deployments.
      await deployments.request(c.var.principal, pipeline_id, { environment: c.req.valid('json').environment, requestId: c.var.requestId }, { surface: 'rest' });
      return c.json({ pipeline_id, message: 'Pipeline deployment initiated.', deployment_status: 'in_progress' as const }, 202);
    })
    .openapi(compile, async (c) => c.json(await codeRepos.start(c.var.principal, c.req.valid('json')), 202))
    .openapi(compileStatus, async (c) => c.json(compileOutcome(await codeRepos.get(c.var.principal, c.req.valid('param').compile_id)), 200));
}
