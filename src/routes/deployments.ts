import { callerOf } from '../dagster/policy.ts';
import { createRoute, z } from '@hono/zod-openapi';
import type { DeploymentRow } from '../dagster/deployment-repo.ts';
import { runView } from '../../tools/definitions/shared.ts';
import type { Domain } from '../domain.ts';
import { createRouter, dagsterErrorResponses, errorResponses, errorSchema, jsonBody, jsonResponse, uuidParam, versionNumber } from './router.ts';
import { iso } from './serialize.ts';

const deploymentSchema = z
  .object({
    id: z.uuid(),
    pipeline_id: z.uuid(),
    version: z.number().int(),
    environment: z.string(),
    status: z.enum(['pending', 'in_progress', 'deployed', 'written', 'failed']),
    location_name: z.string(),
    content_hash: z.string().nullable(),
    message: z.string().nullable(),
    error: z.string().nullable().openapi({ description: "Dagster's own error text when the location failed to load" }),
    attempts: z.number().int(),
    request_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi('Deployment');

// The run the tools describe, plus its tags (the REST view shows them).
const runSchema = runView.extend({ tags: z.record(z.string(), z.string()) }).openapi('Run');

const deploymentResponse = (d: DeploymentRow) => ({
  id: d.id,
  pipeline_id: d.pipeline_id,
  version: d.version,
  environment: d.environment,
  status: d.status,
  location_name: d.location_name,
  content_hash: d.content_hash,
  message: d.message,
  error: d.error,
  attempts: d.attempts,
  request_id: d.request_id,
  created_at: iso(d.created_at),
  updated_at: iso(d.updated_at),
  finished_at: d.finished_at ? iso(d.finished_at) : null,
});


const runParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }), run_id: z.string().min(1).openapi({ param: { name: 'run_id', in: 'path' } }) });
const envQuery = z.object({ environment: z.string().optional() });

const createDeployment = createRoute({
  method: 'post',
  path: '/v1/pipelines/{id}/deployments',
  summary: 'Deploy a version (the current one by default; an earlier one rolls back) to an environment',
  request: {
    params: uuidParam('id'),
    ...jsonBody(z.object({ environment: z.string().min(1).optional(), version: versionNumber().optional() }).strict(), 'Where, and which version'),
  },
  responses: { 202: jsonResponse(deploymentSchema, 'Accepted: a worker carries it out'), ...errorResponses, 501: jsonResponse(errorSchema, 'Not compilable yet') },
});

const listDeployments = createRoute({
  method: 'get',
  path: '/v1/pipelines/{id}/deployments',
  summary: "A pipeline's deployments, newest first",
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(z.object({ deployments: z.array(deploymentSchema) }), 'Deployments'), ...errorResponses },
});

const getDeployment = createRoute({
  method: 'get',
  path: '/v1/deployments/{id}',
  summary: 'One deployment',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(deploymentSchema, 'The deployment'), ...errorResponses },
});

const launchRun = createRoute({
  method: 'post',
  path: '/v1/pipelines/{id}/runs',
  summary: 'Launch a run of the deployed pipeline',
  request: {
    params: uuidParam('id'),
    ...jsonBody(
      z
        .object({
          environment: z.string().min(1).optional(),
          job: z.string().min(1).optional().openapi({ description: 'A job id; the all-blocks job by default' }),
          partition: z.string().min(1).optional().openapi({ description: 'A partitioned pipeline: the partition key to run (re-run), e.g. "2024-01-31"' }),
        })
        .strict(),
      'Which deployment, job and partition',
    ),
  },
  responses: { 201: jsonResponse(runSchema, 'The launched run'), ...errorResponses, ...dagsterErrorResponses },
});

const listRuns = createRoute({
  method: 'get',
  path: '/v1/pipelines/{id}/runs',
  summary: "The pipeline's runs in Dagster, newest first (scheduled runs included)",
  request: { params: uuidParam('id'), query: envQuery.extend({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
  responses: { 200: jsonResponse(z.object({ runs: z.array(runSchema) }), 'Runs'), ...errorResponses, ...dagsterErrorResponses },
});

const getRun = createRoute({
  method: 'get',
  path: '/v1/pipelines/{id}/runs/{run_id}',
  summary: 'One run',
  request: { params: runParams, query: envQuery },
  responses: { 200: jsonResponse(runSchema, 'The run'), ...errorResponses, ...dagsterErrorResponses },
});

const runLogs = createRoute({
  method: 'get',
  path: '/v1/pipelines/{id}/runs/{run_id}/logs',
  summary: "A run's event log, a page at a time",
  request: { params: runParams, query: envQuery.extend({ cursor: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) }) },
  responses: {
    200: jsonResponse(
      z.object({
        run_id: z.string(),
        cursor: z.string(),
        has_more: z.boolean(),
        events: z.array(z.object({ type: z.string(), level: z.string().nullable(), step: z.string().nullable(), timestamp: z.string().nullable(), message: z.string().nullable(), error: z.string().nullable() })),
      }),
      'Events',
    ),
    ...errorResponses,
    ...dagsterErrorResponses,
  },
});

const terminateRun = createRoute({
  method: 'post',
  path: '/v1/pipelines/{id}/runs/{run_id}/terminate',
  summary: 'Stop a run',
  request: { params: runParams, query: envQuery },
  responses: { 200: jsonResponse(runSchema, 'The run after the request'), ...errorResponses, ...dagsterErrorResponses },
});

const listEnvironments = createRoute({
  method: 'get',
  path: '/v1/environments',
  summary: 'Where pipelines can be deployed (secret names only, never values)',
  responses: {
    200: jsonResponse(
      z.object({
        environments: z.array(
          z.object({
            name: z.string(),
            dagster_url: z.string().nullable(),
            workspace_dir: z.string(),
            secrets: z.array(z.string()).openapi({ description: 'Secret names its pipelines may use (values are never shown)' }),
            secrets_from: z.enum(['list', 'inherit']).openapi({ description: '"inherit": the names the built-in block types declare, counted as set where this service\'s environment has them' }),
            policy: z.object({ approval_required_for_model_deploys: z.boolean(), allow_destructive: z.boolean() }),
            code_servers: z.enum(['files', 'grpc']).openapi({ description: 'How its Dagster loads the shards: from their files, or from one gRPC code server each (run by npm run dagster)' }),
            grpc: z
              .object({ host: z.string(), ports: z.object({ from: z.number().int(), to: z.number().int() }) })
              .nullable()
              .openapi({ description: 'Where the code servers listen, one port of the range per shard; null with code_servers files' }),
            target: z.enum(['local', 'kubernetes']).openapi({ description: 'Where its Dagster runs; "kubernetes": deploy writes images and manifests for a cluster and applies nothing' }),
            kubernetes: z
              .object({ namespace: z.string(), image: z.string().openapi({ description: 'Repository prefix of the shard images' }), base_image: z.string(), port: z.number().int(), secret_name: z.string() })
              .nullable(),
          }),
        ),
      }),
      'Environments',
    ),
  },
});

export function deploymentRoutes({ deployments, runs, environments }: Domain) {
  return createRouter()
    .openapi(createDeployment, async (c) => {
      const body = c.req.valid('json');
      const row = await deployments.request(c.var.principal, c.req.valid('param').id, { ...body, requestId: c.var.requestId }, { surface: 'rest' });
      return c.json(deploymentResponse(row), 202);
    })
    .openapi(listDeployments, async (c) => c.json({ deployments: (await deployments.list(c.var.principal, c.req.valid('param').id)).map(deploymentResponse) }, 200))
    .openapi(getDeployment, async (c) => c.json(deploymentResponse(await deployments.get(c.var.principal, c.req.valid('param').id)), 200))
    .openapi(launchRun, async (c) => {
      const body = c.req.valid('json');
      return c.json(await runs.launch(c.var.principal, c.req.valid('param').id, { ...body, requestId: c.var.requestId }), 201);
    })
    .openapi(listRuns, async (c) => {
      const q = c.req.valid('query');
      return c.json({ runs: await runs.list(c.var.principal, c.req.valid('param').id, q.environment, q.limit) }, 200);
    })
    .openapi(getRun, async (c) => {
      const { id, run_id } = c.req.valid('param');
      return c.json(await runs.get(c.var.principal, id, run_id, c.req.valid('query').environment), 200);
    })
    .openapi(runLogs, async (c) => {
      const { id, run_id } = c.req.valid('param');
      const q = c.req.valid('query');
      return c.json(await runs.logs(c.var.principal, id, run_id, { ...(q.environment ? { environment: q.environment } : {}), ...(q.cursor ? { cursor: q.cursor } : {}), limit: q.limit }), 200);
    })
    .openapi(terminateRun, async (c) => {
      const { id, run_id } = c.req.valid('param');
      const { environment } = c.req.valid('query');
      return c.json(await runs.terminate(c.var.principal, id, run_id, { ...(environment ? { environment } : {}), by: callerOf(c.var.principal, 'rest') }), 200);
    })
    .openapi(listEnvironments, (c) => c.json({ environments: environments.list() }, 200));
}
