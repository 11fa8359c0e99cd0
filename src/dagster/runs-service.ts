import { LAUNCH_RUN, RUN, RUN_LOGS, RUNS_BY_TAGS, TERMINATE_RUN } from '../adapters/dagster/documents.ts';
import { requireRole } from '../auth/roles.ts';
import { dagsterRefusal } from '../adapters/dagster/dagster-errors.ts';
import type { Principal } from '../auth/principal.ts';
import { specJobId } from '../compile/naming.ts';
import { AppError } from '../errors.ts';
import type { DagsterConnections } from './dagster-connections.ts';
import { partitionsFor } from './partition-keys.ts';
import { executionTags, type PipelineScopes, type Scope } from './pipeline-scope.ts';
import { refuseDestructive, type Caller } from './policy.ts';
import { PARTITION_TAG, seedStatusOf, TAG } from './run-status.ts';

export interface RunView {
  run_id: string;
  status: 'running' | 'completed' | 'failed';
  dagster_status: string;
  job: string;
  environment: string;
  version: number | null;
  started_at: string | null;
  ended_at: string | null;
  url: string;
  tags: Record<string, string>;
}

interface DagsterRun {
  runId: string;
  status: string;
  jobName: string;
  startTime: number | null;
  endTime: number | null;
  tags: Array<{ key: string; value: string }>;
}

const iso = (seconds: number | null) => (seconds ? new Date(seconds * 1000).toISOString() : null);

/** Runs of deployed pipelines, launched and read through the environment's Dagster. */
export class RunsService {
  private readonly deps: { scopes: PipelineScopes; connections: DagsterConnections };

  constructor(deps: RunsService['deps']) {
    this.deps = deps;
  }

  /**
   * Launches a job of the live deployment, tagged with the pipeline, its version and who asked;
   * of one partition when `partition` is given (a partition of the job as Dagster lists it now).
   */
  async launch(principal: Principal, pipelineId: string, opts: { environment?: string; job?: string; partition?: string; requestId?: string }): Promise<RunView> {
    requireRole(principal, 'run', 'Launching a run');
    const target = await this.deps.scopes.liveJob(principal, pipelineId, opts);
    const tags = { ...target.tags };
    if (opts.partition !== undefined) tags[PARTITION_TAG] = (await partitionsFor(target, { partition: opts.partition }))[0]!;
    const data = await target.client.request(LAUNCH_RUN, { params: { selector: target.selector, executionMetadata: { tags: executionTags(tags) } } });
    const result = data.launchRun;
    if (result.__typename !== 'LaunchRunSuccess') throw dagsterRefusal(result, 'Dagster did not launch the run');
    return this.runOf(target, pipelineId, result.run.runId);
  }

  /** Newest runs first, from Dagster, by the pipeline's tag (scheduled runs included). */
  async list(principal: Principal, pipelineId: string, environment?: string, limit = 20): Promise<RunView[]> {
    const scope = await this.deps.scopes.of(principal, pipelineId, environment);
    const data = await scope.client.request(RUNS_BY_TAGS, { filter: { tags: [{ key: TAG.pipelineId, value: pipelineId }] }, limit });
    const runs = data.runsOrError;
    if (runs.__typename !== 'Runs') throw dagsterRefusal(runs, 'Dagster could not list runs');
    return (runs.results as DagsterRun[]).map((r) => this.view(r, scope));
  }

  async get(principal: Principal, pipelineId: string, runId: string, environment?: string): Promise<RunView> {
    return this.runOf(await this.deps.scopes.of(principal, pipelineId, environment), pipelineId, runId);
  }

  /** The run from the environment's Dagster, when it is one of the pipeline's. */
  private async runOf(scope: Scope, pipelineId: string, runId: string): Promise<RunView> {
    const { env, client } = scope;
    const data = await client.request(RUN, { runId });
    const run = data.runOrError;
    // A run of another pipeline is as good as absent: ids are not capabilities.
    if (run.__typename !== 'Run' || !run.tags.some((t: { key: string; value: string }) => t.key === TAG.pipelineId && t.value === pipelineId)) {
      throw new AppError('not_found:run', `Pipeline "${pipelineId}" has no run "${runId}" in "${env}".`, { hint: 'List the pipeline\'s runs for their ids.' });
    }
    return this.view(run, scope);
  }

  async logs(principal: Principal, pipelineId: string, runId: string, opts: { environment?: string; cursor?: string; limit?: number }) {
    const scope = await this.deps.scopes.of(principal, pipelineId, opts.environment);
    // Only the pipeline's own runs show their logs.
    await this.runOf(scope, pipelineId, runId);
    const data = await scope.client.request(RUN_LOGS, { runId, afterCursor: opts.cursor ?? null, limit: opts.limit ?? 200 });
    const logs = data.logsForRun;
    if (logs.__typename !== 'EventConnection') throw dagsterRefusal(logs, 'Dagster could not read the logs');
    return {
      run_id: runId,
      cursor: logs.cursor as string,
      has_more: logs.hasMore as boolean,
      events: (logs.events as Array<Record<string, any>>).map((e) => ({
        type: e.eventType ?? e.__typename,
        level: e.level ?? null,
        step: e.stepKey ?? null,
        timestamp: e.timestamp ? new Date(Number(e.timestamp)).toISOString() : null,
        message: e.message ?? null,
        error: e.error?.message ?? null,
      })),
    };
  }

  /**
   * Asks Dagster to stop a run. A model may not where the run's environment (the one asked for,
   * else where the pipeline was last deployed) has a policy that forbids destructive tools.
   */
  async terminate(principal: Principal, pipelineId: string, runId: string, opts: { environment?: string; by: Caller }): Promise<RunView> {
    requireRole(principal, 'run', 'Terminating a run');
    const { env, slug } = await this.deps.scopes.environmentOf(principal, pipelineId, opts.environment);
    refuseDestructive(opts.by, [this.deps.connections.get(env)?.env], 'Stopping this run', 'A person can stop the run in the Dagster UI.');
    const scope = { env, slug, client: this.deps.scopes.clientFor(env) };
    await this.runOf(scope, pipelineId, runId);
    const data = await scope.client.request(TERMINATE_RUN, { runId });
    const result = data.terminateRun;
    if (result.__typename === 'PythonError') throw dagsterRefusal(result, `Dagster did not terminate run ${runId}`);
    if (result.__typename !== 'TerminateRunSuccess') {
      throw new AppError('conflict:run', `Dagster did not terminate run ${runId}: ${result.message ?? result.__typename}`);
    }
    return this.runOf(scope, pipelineId, runId);
  }

  private view(run: DagsterRun, { env, client, slug }: Scope): RunView {
    const tags = Object.fromEntries(run.tags.map((t) => [t.key, t.value]));
    return {
      run_id: run.runId,
      status: seedStatusOf(run.status),
      dagster_status: run.status,
      job: specJobId(slug, run.jobName),
      environment: env,
      version: tags[TAG.version] ? Number(tags[TAG.version]) : null,
      started_at: iso(run.startTime),
      ended_at: iso(run.endTime),
      url: `${client.uiUrl}/runs/${run.runId}`,
      tags,
    };
  }
}
