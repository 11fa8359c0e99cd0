import { z } from 'zod';
import { READ_ONLY, type ToolContext, type ToolDefinition } from '../tool.ts';
import { backfillView, environment, issue, pipelineId, runView, version } from './shared.ts';

export const deployPipeline = {
  name: 'deploy_pipeline',
  title: 'Deploy a pipeline',
  description:
    'Deploy a version (the current one by default; an earlier one rolls back) to an environment. By default this is a dry run that shows what would change there: the version live now, the code diff, missing secrets, and whether a person must approve. Call with dry_run false to deploy; it returns at once and the deployment carries on (follow it with pipeline_status). A dbt block\'s project (its project_dir on the environment\'s machine) is parsed during the deploy; if that fails, the deployment fails naming the block.',
  group: 'deploy',
  input: z.object({
    pipeline_id: pipelineId,
    environment,
    version: version.optional(),
    dry_run: z.boolean().default(true).describe('true (default): only preview; false: deploy'),
    wait: z.boolean().default(false).describe('With dry_run false: wait (up to 5 minutes, with progress) until Dagster has loaded it or it failed'),
  }),
  output: z.object({
    dry_run: z.boolean(),
    environment: z.string(),
    version: z.number().int(),
    live_version: z.number().int().nullable().optional(),
    unchanged: z.boolean().optional(),
    changes: z.record(z.string(), z.string()).optional(),
    missing_secrets: z.array(issue).optional(),
    approval_required: z.boolean().optional(),
    deployment_id: z.uuid().optional(),
    status: z.string().optional().describe('pending, in_progress, deployed, written or failed'),
    message: z.string().nullable().optional(),
    error: z.string().nullable().optional().describe("Dagster's own error text when it failed"),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  // A model deploying (not previewing) to an environment whose policy asks for a person.
  needsApproval: (input: { dry_run?: boolean; environment?: string }, ctx: ToolContext) =>
    !input.dry_run && ctx.domain.environments.deployNeedsApproval(input.environment, ctx.caller),
  approvalInDomain: true,
  // A preview's code diff carries what users wrote (block names, config), a result Dagster's errors.
  untrustedOutput: true,
} satisfies ToolDefinition;

export const launchRun = {
  name: 'launch_run',
  title: 'Launch a run',
  description: 'Start a run of a deployed pipeline in Dagster now (the all-blocks job by default; of one partition with partition, for a partitioned pipeline). Returns the run id and a link to it in the Dagster UI; follow it with pipeline_status or get_run_logs. For many partitions use backfill_pipeline.',
  group: 'runs',
  input: z.object({
    pipeline_id: pipelineId,
    environment: environment.optional().describe('Where it is deployed; the last deployment\'s environment when omitted'),
    job: z.string().min(1).optional().describe('A job id from the spec; every block when omitted'),
    partition: z.string().min(1).optional().describe('For a partitioned pipeline: the partition key to run, e.g. "2024-01-31" (daily)'),
  }),
  output: runView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  needsApproval: false,
  untrustedOutput: false,
} satisfies ToolDefinition;

export const pipelineStatusTool = {
  name: 'pipeline_status',
  title: 'Pipeline status',
  description:
    'Where a pipeline stands: its latest run (running, completed or failed, with Dagster\'s own status and a link), else its latest deployment (pending, in_progress, deployed, written, failed, with Dagster\'s error if it failed). Give run_id to follow a run you launched: a schedule or sensor may have started a newer one. Give backfill_id (from backfill_pipeline) for a backfill\'s progress: partitions succeeded, failed and in progress, and each run.',
  group: 'runs',
  input: z.object({
    pipeline_id: pipelineId,
    run_id: z.string().min(1).optional().describe('A run of this pipeline (from launch_run): report that run rather than the latest'),
    backfill_id: z.string().min(1).optional().describe('A backfill of this pipeline (from backfill_pipeline): report its progress'),
  }),
  output: z.object({
    pipeline_id: z.uuid(),
    status: z.string(),
    last_updated: z.string(),
    deployment: z.object({ id: z.uuid(), version: z.number().int(), environment: z.string(), status: z.string(), message: z.string().nullable(), error: z.string().nullable() }).nullable(),
    run: runView.nullable(),
    backfill: backfillView.nullable().describe('With backfill_id: the backfill'),
    dagster_error: z.string().nullable(),
  }),
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const getRunLogs = {
  name: 'get_run_logs',
  title: 'Get run logs',
  description: 'A page of a run\'s event log from Dagster (steps, materializations, errors). Pass the returned cursor to read on.',
  group: 'runs',
  input: z.object({
    pipeline_id: pipelineId,
    run_id: z.string().min(1).describe('From launch_run or pipeline_status'),
    cursor: z.string().optional().describe('Continue after this cursor'),
    limit: z.number().int().min(1).max(500).default(100).describe('Events per page'),
  }),
  output: z.object({
    run_id: z.string(),
    cursor: z.string(),
    has_more: z.boolean(),
    events: z.array(z.object({ type: z.string(), level: z.string().nullable(), step: z.string().nullable(), timestamp: z.string().nullable(), message: z.string().nullable(), error: z.string().nullable() })),
  }),
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const terminateRun = {
  name: 'terminate_run',
  title: 'Terminate a run',
  description: 'Ask Dagster to stop a run in progress. A person must agree: asked directly where the client can, else an approval request a person answers (then call again).',
  group: 'runs',
  input: z.object({ pipeline_id: pipelineId, run_id: z.string().min(1).describe('The run to stop') }),
  output: runView,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  needsApproval: true,
  untrustedOutput: false,
} satisfies ToolDefinition;

export const listEnvironments = {
  name: 'list_environments',
  title: 'List environments',
  description: 'Where pipelines can be deployed: each environment\'s Dagster, the secret names set there (never values) and its policy.',
  group: 'deploy',
  input: z.object({}),
  output: z.object({
    environments: z.array(
      z.object({
        name: z.string(),
        dagster_url: z.string().nullable(),
        secrets: z.array(z.string()).describe('Secret names a block config may name here (e.g. as connection_secret)'),
        approval_required_for_model_deploys: z.boolean(),
        allow_destructive: z.boolean(),
        target: z.enum(['local', 'kubernetes']).describe('Where its Dagster runs; "kubernetes": a deploy writes the images and manifests a team applies, and ends as written, not deployed'),
      }),
    ),
  }),
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: false,
} satisfies ToolDefinition;
