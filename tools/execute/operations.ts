import type { z } from 'zod';
import type { DeploymentRow } from '../../src/dagster/deployment-repo.ts';
import type { RunView } from '../../src/dagster/runs-service.ts';
import type { deployPipeline, getRunLogs, launchRun, pipelineStatusTool, terminateRun } from '../definitions/operations.ts';
import type { ToolContext } from '../tool.ts';

type In<T extends { input: z.ZodObject }> = z.infer<T['input']>;

const run = ({ tags: _tags, ...rest }: RunView) => rest;

export async function runDeployPipeline(input: In<typeof deployPipeline>, ctx: ToolContext) {
  const request = { environment: input.environment, ...(input.version ? { version: input.version } : {}), ...(ctx.requestId ? { requestId: ctx.requestId } : {}) };
  if (input.dry_run) {
    const preview = await ctx.domain.deployments.preview(ctx.principal, input.pipeline_id, request);
    return {
      dry_run: true,
      environment: preview.environment,
      version: preview.version,
      live_version: preview.live_version,
      unchanged: preview.unchanged,
      changes: preview.changes,
      missing_secrets: preview.missing_secrets,
      approval_required: preview.approval_required_for_model_deploys,
    };
  }
  let row = await ctx.domain.deployments.request(ctx.principal, input.pipeline_id, request, { surface: ctx.surface, ...(ctx.personApproved ? { personApproved: true } : {}) });
  if (input.wait) row = await followDeployment(row, ctx);
  return { dry_run: false, environment: row.environment, version: row.version, deployment_id: row.id, status: row.status, message: row.message, error: row.error };
}

const STEPS: Record<string, number> = { pending: 0, in_progress: 1 };
const WAIT_MS = 5 * 60_000;

/**
 * Follows a deployment until it settles, telling the client each step. A cancelled call stops
 * waiting, not the deployment: it carries on, and pipeline_status tells how it went.
 */
async function followDeployment(first: DeploymentRow, ctx: ToolContext): Promise<DeploymentRow> {
  let row = first;
  let reported = '';
  const deadline = Date.now() + WAIT_MS;
  while (row.status in STEPS && Date.now() < deadline && !ctx.signal.aborted) {
    if (row.status !== reported) {
      reported = row.status;
      await ctx.progress?.(STEPS[row.status]!, 2, row.status === 'pending' ? 'Waiting for a deploy worker' : 'Writing the code location and asking Dagster to load it');
    }
    await new Promise((r) => setTimeout(r, 250));
    row = await ctx.domain.deployments.get(ctx.principal, row.id);
  }
  if (!(row.status in STEPS)) await ctx.progress?.(2, 2, `Deployment ${row.status}`);
  return row;
}

export async function runLaunchRun(input: In<typeof launchRun>, ctx: ToolContext) {
  const { environment, job, partition } = input;
  return run(await ctx.domain.runs.launch(ctx.principal, input.pipeline_id, { ...(environment ? { environment } : {}), ...(job ? { job } : {}), ...(partition ? { partition } : {}), ...(ctx.requestId ? { requestId: ctx.requestId } : {}) }));
}

export async function runPipelineStatus(input: In<typeof pipelineStatusTool>, ctx: ToolContext) {
  const s = await ctx.domain.status.of(ctx.principal, input.pipeline_id);
  const asked = input.run_id ? await ctx.domain.runs.get(ctx.principal, input.pipeline_id, input.run_id) : null;
  const backfill = input.backfill_id ? await ctx.domain.backfills.get(ctx.principal, input.pipeline_id, input.backfill_id) : null;
  const d = s.deployment;
  return {
    pipeline_id: s.pipeline.id,
    status: backfill?.status ?? asked?.status ?? s.status,
    last_updated: s.last_updated.toISOString(),
    deployment: d ? { id: d.id, version: d.version, environment: d.environment, status: d.status, message: d.message, error: d.error } : null,
    run: asked ? run(asked) : s.run ? run(s.run) : null,
    backfill,
    dagster_error: s.dagster_error,
  };
}

export async function runGetRunLogs(input: In<typeof getRunLogs>, ctx: ToolContext) {
  return ctx.domain.runs.logs(ctx.principal, input.pipeline_id, input.run_id, { ...(input.cursor ? { cursor: input.cursor } : {}), limit: input.limit });
}

/**
 * A run of a pipeline that is not there (or is another org's) is refused before anyone is asked to
 * approve stopping it. The run itself is looked up when the call goes through: that needs Dagster.
 */
export async function checkRunsPipelineExists(input: In<typeof terminateRun>, ctx: ToolContext): Promise<void> {
  await ctx.domain.pipelines.get(ctx.principal, input.pipeline_id);
}

export async function runTerminateRun(input: In<typeof terminateRun>, ctx: ToolContext) {
  return run(await ctx.domain.runs.terminate(ctx.principal, input.pipeline_id, input.run_id, { by: ctx.caller }));
}

export async function runListEnvironments(_input: unknown, ctx: ToolContext) {
  return {
    environments: ctx.domain.environments.list().map((env) => ({
      name: env.name,
      dagster_url: env.dagster_url,
      secrets: env.secrets,
      approval_required_for_model_deploys: env.policy.approval_required_for_model_deploys,
      allow_destructive: env.policy.allow_destructive,
      target: env.target,
    })),
  };
}
