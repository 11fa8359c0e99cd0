import { z } from 'zod';
import { jsonPatchSchema } from '../../src/pipelines/json-patch.ts';
import { READ_ONLY, type ToolDefinition } from '../tool.ts';
import { issue, pipelineId, pipelineSummary, version } from './shared.ts';

const spec = z
  .record(z.string(), z.unknown())
  .describe(
    'The pipeline spec: {"name", "description"?, "blocks": [{"id", "type": "slug@version", "name"?, "config"}], "edges": [{"from": {"block", "port"}, "to": {"block", "port"}}] (an output to an input of the same port type: "table" hands rows on, "tables" only orders blocks that write and read a database), "jobs"?: [{"id", "blocks": [block ids], "checks"?: false to skip check blocks}], "schedules"?: [{"id", "cron", "timezone"?, "job"?}], "sensors"?: [{"id", "type": a trigger block "slug@version", "config", "job"?}], "partitions"?, "retry_policy"?: {"max_retries", "delay_seconds"}, "environment"?}. A schedule or sensor without "job" runs every block. Ids are lower snake_case.',
  );

const pipelineView = z.object({
  pipeline_id: z.uuid(),
  name: z.string(),
  version: z.number().int().describe('The version shown'),
  current_version: z.number().int(),
  spec: z.record(z.string(), z.unknown()),
  versions: z.array(z.object({ version: z.number().int(), created_at: z.string(), origin: z.string() })),
});

const report = z.object({ valid: z.boolean(), errors: z.array(issue), warnings: z.array(issue) });

export const proposePipeline = {
  name: 'propose_pipeline',
  title: 'Propose a pipeline',
  description:
    'Save a whole pipeline spec: a new pipeline, or (with pipeline_id) a new version of an existing one. The spec is validated first and nothing is saved when it has problems; every problem comes back with its JSON path and a hint, so fix them all and call again. Block types are pinned to "slug@version".',
  group: 'pipelines',
  input: z.object({
    spec,
    pipeline_id: pipelineId.optional().describe('Save as a new version of this pipeline instead of creating one'),
    base_version: version.optional().describe('With pipeline_id: fail unless the pipeline is still at this version'),
  }),
  output: pipelineView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const editPipeline = {
  name: 'edit_pipeline',
  title: 'Edit a pipeline with a JSON patch',
  description:
    'Change part of a pipeline without resending it: RFC 6902 operations against the current spec, e.g. [{"op": "replace", "path": "/schedules/0/cron", "value": "0 */6 * * *"}]. Use "add" to set a config field that may be absent. The result is validated and saved as a new version, or nothing is saved.',
  group: 'pipelines',
  input: z.object({ pipeline_id: pipelineId, patch: jsonPatchSchema.describe('RFC 6902 operations, applied in order'), base_version: version.optional().describe('Fail unless the pipeline is still at this version') }),
  output: pipelineView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const validatePipeline = {
  name: 'validate_pipeline',
  title: 'Validate a pipeline spec',
  description: 'Check a spec without saving it and list every problem (unknown block types, bad config, unconnected or mismatched ports, cycles, bad cron...) with its JSON path and a hint.',
  group: 'pipelines',
  input: z.object({ spec }),
  output: report,
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: false,
} satisfies ToolDefinition;

export const getPipeline = {
  name: 'get_pipeline',
  title: 'Get a pipeline',
  description: 'A pipeline\'s spec (the current version, or the one asked for) and its version history.',
  group: 'pipelines',
  input: z.object({ pipeline_id: pipelineId, version: version.optional() }),
  output: pipelineView,
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const listPipelines = {
  name: 'list_pipelines',
  title: 'List pipelines',
  description: 'Every pipeline you can see, newest first, with its current version.',
  group: 'pipelines',
  input: z.object({}),
  output: z.object({ pipelines: z.array(pipelineSummary) }),
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const compilePipelineTool = {
  name: 'compile_pipeline',
  title: 'Compile a pipeline to Dagster code',
  description:
    "Show the Dagster component a version compiles to (defs.yaml and pipeline.json, in a folder named component_name inside its org's shared code location), or with diff_against_environment only what differs from the version deployed there. Nothing is deployed.",
  group: 'pipelines',
  input: z.object({
    pipeline_id: pipelineId,
    version: version.optional(),
    diff_against_environment: z.string().min(1).optional().describe('Show only the changes against the version live in this environment'),
  }),
  output: z.object({
    version: z.number().int(),
    component_name: z.string().describe("The component's folder: the pipeline's slug, fixed when it was created"),
    content_hash: z.string(),
    files: z.record(z.string(), z.string()).describe('File name → content, or → changed lines when diffing'),
    requirements: z.array(z.string()).describe('Pinned packages its blocks import, beyond dagster and the block library'),
    dagster_jobs: z.record(z.string(), z.string()).describe("Job id → the job's name in Dagster"),
    diffed_against_version: z.number().int().nullable(),
  }),
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const deletePipeline = {
  name: 'delete_pipeline',
  title: 'Delete a pipeline',
  description: 'Delete a pipeline and all its versions, and take its code location out of every environment it was deployed to. Cannot be undone; a person must agree: asked directly where the client can, else an approval request a person answers (then call again).',
  group: 'pipelines',
  input: z.object({ pipeline_id: pipelineId }),
  output: z.object({ deleted: z.boolean(), pipeline_id: z.uuid() }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  needsApproval: true,
  untrustedOutput: false,
} satisfies ToolDefinition;
