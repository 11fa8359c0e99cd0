import type { DagsterGraphqlClient } from '../adapters/dagster/graphql-client.ts';
import type { Principal } from '../auth/principal.ts';
import type { CompileService, CompiledVersion } from '../compile/compile-service.ts';
import { AppError } from '../errors.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import type { DagsterConnections } from './dagster-connections.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import type { DeploymentReconciler } from './deployment-reconciler.ts';
import { TAG } from './run-status.ts';

/** Where a pipeline's runs and backfills are read: its environment, that environment's Dagster, and the pipeline's slug. */
export interface Scope {
  env: string;
  client: DagsterGraphqlClient;
  slug: string;
}

/** A job of the live deployment, as Dagster knows it, and the tags every run it starts carries. */
export interface LiveJob extends Scope {
  live: DeploymentRow;
  compiled: CompiledVersion;
  /** The spec's job id (what users and tools name). */
  job: string;
  selector: { repositoryLocationName: string; repositoryName: string; jobName: string };
  tags: Record<string, string>;
}

type Deps = { deployments: DeploymentRepo; reconciler: DeploymentReconciler; pipelines: PipelineService; compiler: CompileService; connections: DagsterConnections };

/**
 * The rules that say which environment, which Dagster and which job a run or a backfill of a
 * pipeline goes to: one place for runs and backfills alike.
 */
export class PipelineScopes {
  private readonly deps: Deps;

  constructor(deps: Deps) {
    this.deps = deps;
  }

  /** The environment asked for, else the one the pipeline was last deployed to. */
  async environmentOf(principal: Principal, pipelineId: string, environment?: string): Promise<{ env: string; slug: string }> {
    const { slug } = await this.deps.pipelines.require(principal, pipelineId);
    const env = environment ?? (await this.deps.deployments.latest(principal.orgId, pipelineId))?.environment;
    if (!env) throw new AppError('conflict:not_deployed', `Pipeline "${pipelineId}" has never been deployed, so it has no runs.`, { hint: 'Deploy it first.' });
    return { env, slug };
  }

  /** The environment's Dagster client (see environmentOf for which environment). */
  async of(principal: Principal, pipelineId: string, environment?: string): Promise<Scope> {
    const { env, slug } = await this.environmentOf(principal, pipelineId, environment);
    return { env, slug, client: this.clientFor(env) };
  }

  clientFor(env: string): DagsterGraphqlClient {
    const { client } = this.deps.connections.require(env);
    if (!client) throw new AppError('unavailable:dagster', `Environment "${env}" has no Dagster GraphQL URL, so there are no runs to show.`, { hint: 'Set graphql_url for it in DAGSTER_ENVIRONMENTS.' });
    return client;
  }

  /**
   * A job of the version live in the environment (the all-blocks job by default), tagged with
   * the pipeline, its version, the deployment and the request that asked.
   */
  async liveJob(principal: Principal, pipelineId: string, opts: { environment?: string; job?: string; requestId?: string }): Promise<LiveJob> {
    const scope = await this.of(principal, pipelineId, opts.environment);
    // A written version its Dagster has loaded since is live: not "not deployed" until a sweep.
    const live = await this.deps.reconciler.live(principal.orgId, pipelineId, scope.env);
    if (!live) {
      throw new AppError('conflict:not_deployed', `Pipeline "${pipelineId}" is not deployed to "${scope.env}".`, { hint: `Deploy it first: POST /dagster/pipelines/${pipelineId}/deploy/ with {"environment": "${scope.env}"}.` });
    }
    const compiled = await this.deps.compiler.compileDeployed(principal, pipelineId, live.version);
    const job = opts.job ?? compiled.defaultJob ?? compiled.jobs[0]!;
    if (!compiled.jobs.includes(job)) {
      throw new AppError('invalid:job', `Version ${live.version} has no job "${job}".`, {
        hint: `Jobs: ${compiled.jobs.join(', ')}.`,
        issues: [{ code: 'unknown_job', path: '/job', message: `"${job}" is not a job of version ${live.version}`, hint: `One of ${compiled.jobs.join(', ')}` }],
      });
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
    return { ...scope, live, compiled, job, selector: { repositoryLocationName: live.location_name, repositoryName: '__repository__', jobName }, tags };
  }
}

/** Tags as Dagster's GraphQL takes them. */
export const executionTags = (tags: Record<string, string>) => Object.entries(tags).map(([key, value]) => ({ key, value }));
