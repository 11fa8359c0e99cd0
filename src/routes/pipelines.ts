import { callerOf } from '../dagster/policy.ts';
import { createRoute, z } from '@hono/zod-openapi';
import { jsonPatchSchema } from '../pipelines/json-patch.ts';
import { pipelineSpecSchema } from '../pipelines/spec-schema.ts';
import type { Domain } from '../domain.ts';
import { createRouter, errorResponses, errorSchema, jsonBody, jsonResponse, uuidParam, versionNumber, versionQuery } from './router.ts';
import { iso, pipelineResponse } from './serialize.ts';
import { EXAMPLE_SPEC } from './examples.ts';

// Rebuilt from its shape rather than calling pipelineSpecSchema.openapi(): zod 4 copies methods
// onto a schema when it is made, so one made before @hono/zod-openapi extended zod (whenever
// spec-schema.ts is imported first) has no .openapi() and this module would fail to load.
const specSchema = z.object(pipelineSpecSchema.shape).strict().openapi('PipelineSpec');

const issueSchema = z.object({ code: z.string().optional(), path: z.string(), message: z.string(), hint: z.string().optional() });

const pipelineSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    owner_id: z.uuid(),
    org_id: z.uuid(),
    current_version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number().int().openapi({ description: 'The version whose spec is shown' }),
    spec: specSchema,
    spec_hash: z.string(),
    versions: z.array(z.object({ version: z.number().int(), spec_hash: z.string(), origin: z.record(z.string(), z.unknown()), created_by: z.uuid(), created_at: z.string() })),
  })
  .openapi('Pipeline');

const reportSchema = z
  .object({ valid: z.boolean(), errors: z.array(issueSchema), warnings: z.array(issueSchema) })
  .openapi('ValidationReport');

const create = createRoute({
  method: 'post',
  path: '/v1/pipelines',
  summary: 'Create a pipeline from a full spec (version 1)',
  request: jsonBody(specSchema, 'The pipeline spec', EXAMPLE_SPEC),
  responses: { 201: jsonResponse(pipelineSchema, 'The pipeline at version 1'), ...errorResponses },
});

const list = createRoute({
  method: 'get',
  path: '/v1/pipelines',
  summary: 'List your pipelines',
  responses: {
    200: jsonResponse(
      z.object({ pipelines: z.array(z.object({ id: z.uuid(), name: z.string(), description: z.string().nullable(), current_version: z.number().int(), created_at: z.string(), updated_at: z.string() })) }),
      'Pipelines, newest first',
    ),
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/pipelines/{id}',
  summary: 'Get a pipeline with its version history (the current spec, or ?version=N)',
  request: { params: uuidParam('id'), query: versionQuery },
  responses: { 200: jsonResponse(pipelineSchema, 'The pipeline'), ...errorResponses },
});

const replace = createRoute({
  method: 'put',
  path: '/v1/pipelines/{id}',
  summary: 'Replace the spec, making a new version',
  request: {
    params: uuidParam('id'),
    ...jsonBody(
      z.object({ spec: specSchema, base_version: versionNumber().optional().openapi({ description: 'Fail with 409 unless the pipeline is still at this version' }) }).strict(),
      'The new spec',
      { spec: EXAMPLE_SPEC },
    ),
  },
  responses: { 200: jsonResponse(pipelineSchema, 'The pipeline at its new version'), ...errorResponses },
});

const patch = createRoute({
  method: 'patch',
  path: '/v1/pipelines/{id}',
  summary: 'Edit the spec with an RFC 6902 JSON patch, making a new version',
  description: 'Send the operations array itself (application/json-patch+json or application/json), or {"patch": [...], "base_version": N}.',
  request: {
    params: uuidParam('id'),
    ...jsonBody(
      z.union([jsonPatchSchema, z.object({ patch: jsonPatchSchema, base_version: versionNumber().optional() }).strict()]),
      'The JSON patch',
    ),
  },
  responses: { 200: jsonResponse(pipelineSchema, 'The pipeline at its new version'), ...errorResponses },
});

const validate = createRoute({
  method: 'post',
  path: '/v1/pipelines/validate',
  summary: 'Check a spec and report every problem, saving nothing',
  request: jsonBody(z.record(z.string(), z.unknown()).openapi({ description: 'A PipelineSpec, possibly invalid' }), 'The spec to check', EXAMPLE_SPEC),
  responses: { 200: jsonResponse(reportSchema, 'The report; valid is false when there are errors'), 400: errorResponses[400] },
});

const compile = createRoute({
  method: 'post',
  path: '/v1/pipelines/{id}/compile',
  summary: 'Compile a version to its Dagster component and show its files (nothing is deployed)',
  description:
    'A pipeline is a component in its org\'s shared Dagster code location: a folder named `component_name` holding `defs.yaml` (a fixed template) and `pipeline.json` (everything else). Deploying chooses the location.',
  request: { params: uuidParam('id'), query: versionQuery },
  responses: {
    200: jsonResponse(
      z.object({
        pipeline_id: z.uuid(),
        version: z.number().int(),
        component_name: z.string().openapi({ description: "The component's folder: the pipeline's slug, fixed when it was created" }),
        content_hash: z.string(),
        files: z.record(z.string(), z.string()).openapi({ description: 'defs.yaml, pipeline.json' }),
        requirements: z.array(z.string()).openapi({ description: 'Pinned packages its blocks import, beyond dagster and the block library' }),
        dagster_jobs: z.record(z.string(), z.string()).openapi({ description: "Job id → the job's name in Dagster" }),
      }),
      'The compiled component',
    ),
    ...errorResponses,
    501: jsonResponse(errorSchema, 'A block or trigger the block library does not implement yet'),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/pipelines/{id}',
  summary: 'Delete a pipeline and all its versions, after taking it out of every environment it was deployed to',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(z.object({ message: z.string() }), 'Deleted'), ...errorResponses },
});

export function pipelineRoutes({ pipelines, compiler, deployments }: Domain) {
  return createRouter()
    .openapi(validate, async (c) => c.json(await pipelines.validate(c.var.principal, c.req.valid('json')), 200))
    .openapi(create, async (c) => c.json(pipelineResponse(await pipelines.create(c.var.principal, c.req.valid('json'))), 201))
    .openapi(list, async (c) => {
      const rows = await pipelines.list(c.var.principal);
      return c.json({
        pipelines: rows.map((p) => ({ id: p.id, name: p.name, description: p.description, current_version: p.current_version, created_at: iso(p.created_at), updated_at: iso(p.updated_at) })),
      }, 200);
    })
    .openapi(get, async (c) => {
      const view = await pipelines.get(c.var.principal, c.req.valid('param').id, c.req.valid('query').version);
      return c.json(pipelineResponse(view), 200);
    })
    .openapi(replace, async (c) => {
      const body = c.req.valid('json');
      return c.json(pipelineResponse(await pipelines.replace(c.var.principal, c.req.valid('param').id, body.spec, body.base_version)), 200);
    })
    .openapi(patch, async (c) => {
      const body = c.req.valid('json');
      const [ops, base] = Array.isArray(body) ? [body, undefined] : [body.patch, body.base_version];
      return c.json(pipelineResponse(await pipelines.patch(c.var.principal, c.req.valid('param').id, ops, base)), 200);
    })
    .openapi(compile, async (c) => {
      const { id } = c.req.valid('param');
      const out = await compiler.compile(c.var.principal, id, c.req.valid('query').version);
      return c.json({
        pipeline_id: id,
        version: out.view.version.version,
        component_name: out.componentName,
        content_hash: out.contentHash,
        files: out.files,
        requirements: out.requirements,
        dagster_jobs: out.dagsterJobs,
      }, 200);
    })
    .openapi(remove, async (c) => {
      // Out of Dagster first, as on every route that deletes (see DeployService.deletePipeline).
      await deployments.deletePipeline(c.var.principal, c.req.valid('param').id, callerOf(c.var.principal, 'rest'));
      return c.json({ message: 'Pipeline deleted successfully.' }, 200);
    });
}
