import type { Principal } from '../auth/principal.ts';
import { AppError } from '../errors.ts';
import type { PipelineRow } from '../pipelines/pipeline-repo.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import type { RunsService, RunView } from './runs-service.ts';

export interface PipelineStatus {
  pipeline: PipelineRow;
  status: string;
  last_updated: Date;
  deployment: DeploymentRow | null;
  run: RunView | null;
  /** Why Dagster could not be asked, when it could not. */
  dagster_error: string | null;
}

/** A pipeline in a list: its status from the store alone (Dagster is asked per pipeline only). */
export interface PipelineSummary {
  pipeline: PipelineRow;
  status: string;
  last_updated: Date;
}

/**
 * The seed's pipeline status, the one view REST and the tools show: the latest run's (running /
 * completed / failed), else the latest deployment's (pending / in_progress / deployed / written /
 * failed), else pending.
 */
export class PipelineStatusService {
  private readonly deps: { pipelines: PipelineService; deployments: DeploymentRepo; runs: RunsService };

  constructor(deps: PipelineStatusService['deps']) {
    this.deps = deps;
  }

  async of(principal: Principal, pipelineId: string): Promise<PipelineStatus> {
    const pipeline = await this.deps.pipelines.require(principal, pipelineId);
    const deployment = await this.deps.deployments.latest(principal.orgId, pipeline.id);
    let run: RunView | null = null;
    let dagsterError: string | null = null;
    if (deployment && deployment.status !== 'pending') {
      try {
        run = (await this.deps.runs.list(principal, pipeline.id, deployment.environment, 1))[0] ?? null;
      } catch (error) {
        // Dagster down or refusing is part of the status; anything else is a failure of ours.
        if (!(error instanceof AppError)) throw error;
        dagsterError = error.message;
      }
    }
    const times = [pipeline.updated_at, deployment?.updated_at, run?.ended_at ? new Date(run.ended_at) : run?.started_at ? new Date(run.started_at) : undefined];
    return {
      pipeline,
      status: run?.status ?? deployment?.status ?? 'pending',
      last_updated: new Date(Math.max(...times.filter((t): t is Date => !!t).map((t) => t.getTime()))),
      deployment,
      run,
      dagster_error: dagsterError,
    };
  }

  /** Every pipeline with the status of its latest deployment: two store queries for the whole list. */
  async list(principal: Principal): Promise<PipelineSummary[]> {
    const rows = await this.deps.pipelines.list(principal);
    const latest = await this.deps.deployments.latestOf(principal.orgId, rows.map((p) => p.id));
    return rows.map((pipeline) => {
      const deployment = latest.get(pipeline.id);
      return {
        pipeline,
        status: deployment?.status ?? 'pending',
        last_updated: new Date(Math.max(pipeline.updated_at.getTime(), deployment?.updated_at.getTime() ?? 0)),
      };
    });
  }
}
