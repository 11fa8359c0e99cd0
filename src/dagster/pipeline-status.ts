import { DagsterUnavailableError } from '../adapters/dagster/graphql-client.ts';
import type { Principal } from '../auth/principal.ts';
import type { PipelineRow } from '../pipelines/pipeline-repo.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import type { RunsService, RunView } from './runs-service.ts';

export interface PipelineStatus {
  status: string;
  last_updated: Date;
  deployment: DeploymentRow | null;
  run: RunView | null;
  /** Why Dagster could not be asked, when it could not. */
  dagster_error: string | null;
}

/**
 * The seed's pipeline status: the latest run's (running / completed / failed), else the latest
 * deployment's (pending / in_progress / deployed / written / failed), else pending.
 */
export async function pipelineStatus(principal: Principal, pipeline: PipelineRow, deps: { deployments: DeploymentRepo; runs: RunsService }): Promise<PipelineStatus> {
  const deployment = await deps.deployments.latest(pipeline.id);
  let run: RunView | null = null;
  let dagsterError: string | null = null;
  if (deployment && deployment.status !== 'pending') {
    try {
      run = (await deps.runs.list(principal, pipeline.id, deployment.environment, 1))[0] ?? null;
    } catch (error) {
      const e = error as { code?: string; message: string };
      if (!(error instanceof DagsterUnavailableError) && !e.code) throw error;
      dagsterError = e.message;
    }
  }
  const times = [pipeline.updated_at, deployment?.updated_at, run?.ended_at ? new Date(run.ended_at) : run?.started_at ? new Date(run.started_at) : undefined];
  return {
    status: run?.status ?? deployment?.status ?? 'pending',
    last_updated: new Date(Math.max(...times.filter((t): t is Date => !!t).map((t) => t.getTime()))),
    deployment,
    run,
    dagster_error: dagsterError,
  };
}
