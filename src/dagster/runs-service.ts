import { LAUNCH_RUN, RUN, RUN_LOGS, RUNS_BY_TAGS, TERMINATE_RUN } from '../adapters/dagster/documents.ts';
import { dagsterRefusal } from '../adapters/dagster/dagster-errors.ts';
import type { DagsterGraphqlClient } from '../adapters/dagster/graphql-client.ts';
import type { Principal } from '../auth/principal.ts';
import type { CompileService } from '../compile/compile-service.ts';
import { specJobId } from '../compile/naming.ts';
import { AppError } from '../errors.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import type { DagsterConnections } from './dagster-connections.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import { refuseDestructive, type Caller } from './policy.ts';
import { seedStatusOf, TAG } from './run-status.ts';

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

/** Where a pipeline's runs are read: its environment, that environment's Dagster, and the pipeline's slug. */
interface Scope {
  env: string;
  client: DagsterGraphqlClient;
  slug: string;
}

/** Runs of deployed pipelines, launched and read through the environment's Dagster. */
export class RunsService {
  private readonly deps: { deployments: DeploymentRepo; pipelines: PipelineService; compiler: CompileService; connections: DagsterConnections };

  constructor(deps: RunsService['deps']) {
    this.deps = deps;
  }

  /** Launches a job of the live deployment, tagged with the pipeline, its version and who asked. */
  async launch(principal: Principal, pipelineId: string, opts: { environment?: string; job?: string; requestId?: string }): Promise<RunView> {
    const { live, client } = await this.liveDeployment(principal, pipelineId, opts.environment);
    const compiled = await this.deps.compiler.compileDeployed(principal, pipelineId, live.version);
    const job = opts.job ?? compiled.defaultJob ?? compiled.jobs[0]!;
    if (!compiled.jobs.includes(job)) {
      throw new AppError('invalid:job', `Version ${live.version} has no job "${job}".`, { hint: `Jobs: ${compiled.jobs.join(', ')}.` });
    }
    // Users and tools name jobs by spec id; Dagster knows them by the names compile gave them in
    // the shard. A location from before shards (still live until the pipeline's next deploy)
    // named its jobs by spec id alone.
    const jobName = live.location_name === compiled.legacyLocationName ? job : compiled.dagsterJobs[job]!;
    const tags = {
      [TAG.pipelineId]: pipelineId,
      [TAG.version]: String(live.version),
      [TAG.environment]: live.environment,
      [TAG.deploymentId]: live.id,
      ...(opts.requestId ? { [TAG.requestId]: opts.requestId } : {}),
    };
    const data = await client.request(LAUNCH_RUN, {
      params: {
        selector: { repositoryLocationName: live.location_name, repositoryName: '__repository__', jobName },
        executionMetadata: { tags: Object.entries(tags).map(([key, value]) => ({ key, value })) },
      },
    });
    const result = data.launchRun;
    if (result.__typename !== 'LaunchRunSuccess') throw dagsterRefusal(result, 'Dagster did not launch the run');
    return this.get(principal, pipelineId, result.run.runId, live.environment);
  }

  /** Newest runs first, from Dagster, by the pipeline's tag (scheduled runs included). */
  async list(principal: Principal, pipelineId: string, environment?: string, limit = 20): Promise<RunView[]> {
    const scope = await this.connectionFor(principal, pipelineId, environment);
    const data = await scope.client.request(RUNS_BY_TAGS, { filter: { tags: [{ key: TAG.pipelineId, value: pipelineId }] }, limit });
    const runs = data.runsOrError;
    if (runs.__typename !== 'Runs') throw dagsterRefusal(runs, 'Dagster could not list runs');
    return (runs.results as DagsterRun[]).map((r) => this.view(r, scope));
  }

  async get(principal: Principal, pipelineId: string, runId: string, environment?: string): Promise<RunView> {
    return this.runOf(await this.connectionFor(principal, pipelineId, environment), pipelineId, runId);
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
    const scope = await this.connectionFor(principal, pipelineId, opts.environment);
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
    const { env, slug } = await this.environmentOf(principal, pipelineId, opts.environment);
    refuseDestructive(opts.by, [this.deps.connections.get(env)?.env], 'Stopping this run', 'A person can stop the run in the Dagster UI.');
    const scope = { env, slug, client: this.clientFor(env) };
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

  private async liveDeployment(principal: Principal, pipelineId: string, environment?: string): Promise<{ live: DeploymentRow; client: DagsterGraphqlClient }> {
    const { env, client } = await this.connectionFor(principal, pipelineId, environment);
    const live = await this.deps.deployments.live(pipelineId, env);
    if (!live) {
      throw new AppError('conflict:not_deployed', `Pipeline "${pipelineId}" is not deployed to "${env}".`, { hint: `Deploy it first: POST /dagster/pipelines/${pipelineId}/deploy/ with {"environment": "${env}"}.` });
    }
    return { live, client };
  }

  /** The environment asked for, else the one the pipeline was last deployed to. */
  private async environmentOf(principal: Principal, pipelineId: string, environment?: string): Promise<{ env: string; slug: string }> {
    const { slug } = await this.deps.pipelines.require(principal, pipelineId);
    const env = environment ?? (await this.deps.deployments.latest(pipelineId))?.environment;
    if (!env) throw new AppError('conflict:not_deployed', `Pipeline "${pipelineId}" has never been deployed, so it has no runs.`, { hint: 'Deploy it first.' });
    return { env, slug };
  }

  /** The environment's Dagster client (see environmentOf for which environment). */
  private async connectionFor(principal: Principal, pipelineId: string, environment?: string): Promise<Scope> {
    const { env, slug } = await this.environmentOf(principal, pipelineId, environment);
    return { env, slug, client: this.clientFor(env) };
  }

  private clientFor(env: string): DagsterGraphqlClient {
    const { client } = this.deps.connections.require(env);
    if (!client) throw new AppError('unavailable:dagster', `Environment "${env}" has no Dagster GraphQL URL, so there are no runs to show.`, { hint: 'Set graphql_url for it in DAGSTER_ENVIRONMENTS.' });
    return client;
  }
}
