import type { Principal } from '../auth/principal.ts';
import { requireRole } from '../auth/roles.ts';
import type { CompileService } from '../compile/compile-service.ts';
import { AppError, notFound } from '../errors.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import type { DagsterConnection, DagsterConnections } from './dagster-connections.ts';
import { locationNameFor } from '../compile/compile-pipeline.ts';
import { removePipeline, shardFor, unsettled, untilSettled } from './shard-change.ts';
import { recoverWorkspace } from './workspace-recovery.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import type { DeployWorker } from './deploy-worker.ts';
import { filesDiff } from '../compile/diff.ts';
import type { Issue } from '../errors.ts';
import type { CompiledVersion } from '../compile/compile-service.ts';
import type { ApprovalRequests } from '../auth/approval-requests.ts';
import { callerOf, deployCall, deployNeedsApproval, refuseDestructive, requireDeployRole, type Caller, type Surface } from './policy.ts';
import { secretIssues } from './required-secrets.ts';
import type { WorkspaceLocks } from './workspace-lock.ts';
import type { Limits } from '../auth/limits.ts';
import { NODE_RUNTIME, requireLocalRuntime, type Runtime } from '../runtime.ts';

export interface DeployPreview {
  environment: string;
  version: number;
  live_version: number | null;
  location_name: string;
  /** The same bytes are already live. */
  unchanged: boolean;
  /** File → changed lines (+/-) against what is live; empty when unchanged. */
  changes: Record<string, string>;
  missing_secrets: Issue[];
  dagster: string;
  approval_required_for_model_deploys: boolean;
}

export interface DeployDiff {
  compiled: CompiledVersion;
  /** The deployment whose files are in place there now. */
  live: DeploymentRow | null;
  /** File → changed lines (+/-) against what is in place; every line is new when nothing is. */
  changes: Record<string, string>;
}

export interface DeployRequest {
  environment?: string;
  /** A stored version to deploy; the current one by default. An earlier one is a rollback. */
  version?: number;
  requestId?: string;
}

/** Who asks for a deploy, for the environment's policy: where the call came in, and whether a person already said yes to it. */
export interface DeployAsker {
  surface: Surface;
  /** A person agreed to this very call (MCP elicitation) before it got here. */
  personApproved?: boolean;
}

/**
 * Deploys as the seed describes it: the request is checked at once (environment, compile,
 * secrets) and recorded as pending; a worker does the rest and the record tells how it went.
 */
export class DeployService {
  private readonly deps: {
    repo: DeploymentRepo;
    pipelines: PipelineService;
    compiler: CompileService;
    connections: DagsterConnections;
    worker: DeployWorker;
    locks: WorkspaceLocks;
    approvals: ApprovalRequests;
    limits: Limits;
    /** Where this runs: deploys write workspaces, so only the Node server does them (default: it). */
    runtime?: Runtime;
  };

  constructor(deps: DeployService['deps']) {
    this.deps = deps;
  }

  /**
   * What a deploy would do, without doing it: the target environment, the version live there now,
   * whether the code changes (and how), which secrets are missing, whether a person must approve.
   */
  async preview(principal: Principal, pipelineId: string, req: DeployRequest): Promise<DeployPreview> {
    requireLocalRuntime(this.deps.runtime ?? NODE_RUNTIME, 'Previewing a deploy');
    const { compiled, environment, connection } = await this.target(principal, pipelineId, req);
    const { live, changes } = await this.against(principal, pipelineId, compiled, environment);
    return {
      environment,
      version: compiled.view.version.version,
      live_version: live?.version ?? null,
      location_name: shardFor(connection.workspace, compiled).shard,
      unchanged: live?.content_hash === compiled.contentHash,
      changes,
      missing_secrets: secretIssues(connection.env, compiled.view.version.spec, compiled.types),
      dagster: connection.env.graphqlUrl ? 'configured' : 'not configured: the location would be written, not loaded',
      approval_required_for_model_deploys: connection.env.policy.approval_required_for_model_deploys,
    };
  }

  /**
   * A version's compiled files against what is in place in an environment: the diff a deploy
   * preview shows and compile_pipeline's diff_against_environment. `path` names the request field
   * that named the environment, for the error when it is not configured.
   */
  async diff(principal: Principal, pipelineId: string, opts: { environment: string; version?: number; path?: string }): Promise<DeployDiff> {
    this.deps.connections.require(opts.environment, opts.path);
    const compiled = await this.deps.compiler.compile(principal, pipelineId, opts.version);
    return { compiled, ...(await this.against(principal, pipelineId, compiled, opts.environment)) };
  }

  private async against(principal: Principal, pipelineId: string, compiled: CompiledVersion, environment: string) {
    const live = await this.deps.repo.inPlace(principal.orgId, pipelineId, environment);
    const liveFiles = live ? (await this.deps.compiler.compileDeployed(principal, pipelineId, live.version)).files : {};
    return { live, changes: filesDiff(liveFiles, compiled.files) };
  }

  /**
   * Records a deploy for the worker, under the environment's policy: the roles that may deploy
   * there, and, for a model's call (a tool call, or REST with an agent's key), a person's approval
   * where the policy wants one: without it an approval request is opened and the call refused
   * with its id (forbidden:approval_required); once a person approved it, the same call goes
   * through once.
   */
  async request(principal: Principal, pipelineId: string, req: DeployRequest, asker: DeployAsker): Promise<DeploymentRow> {
    requireLocalRuntime(this.deps.runtime ?? NODE_RUNTIME, 'Deploying a pipeline');
    // Here, not in a route: REST, MCP and the chat's tool all deploy through this. A preview does not count.
    await this.deps.limits.take(principal, 'deploy');
    const { compiled, environment, connection } = await this.target(principal, pipelineId, req);
    requireDeployRole(principal, connection.env);
    if (!asker.personApproved && deployNeedsApproval(connection.env, callerOf(principal, asker.surface))) {
      const version = compiled.view.version.version;
      await this.deps.approvals.pass({
        principal,
        surface: asker.surface,
        ...deployCall(pipelineId, environment, req.version),
        summary: { what: 'deploy', pipeline_id: pipelineId, pipeline_name: compiled.view.pipeline.name, environment, version },
      });
    }
    const missing = secretIssues(connection.env, compiled.view.version.spec, compiled.types);
    if (missing.length) {
      throw new AppError('invalid:deployment', `The pipeline names ${missing.length} secret${missing.length === 1 ? '' : 's'} that "${environment}" does not provide; nothing was deployed.`, {
        hint: 'Each issue names the secret, the block config that asks for it, and how to fix it.',
        issues: missing,
      });
    }
    const row = await this.deps.repo.create(principal, {
      pipelineId,
      version: compiled.view.version.version,
      environment,
      // Where it will go as the workspace is now; the worker records where it went.
      locationName: shardFor(connection.workspace, compiled).shard,
      ...(req.requestId ? { requestId: req.requestId } : {}),
    });
    this.deps.worker.kick();
    return row;
  }

  /** Compiles the version and resolves the environment: the request's, the spec's, or the only one. */
  private async target(principal: Principal, pipelineId: string, req: DeployRequest) {
    const compiled = await this.deps.compiler.compile(principal, pipelineId, req.version);
    const names = this.deps.connections.names();
    const environment = req.environment ?? compiled.view.version.spec.environment ?? (names.length === 1 ? names[0] : undefined);
    const connection = this.deps.connections.require(environment);
    return { compiled, environment: connection.env.name, connection };
  }

  async get(principal: Principal, id: string): Promise<DeploymentRow> {
    const row = await this.deps.repo.get(principal, id);
    if (!row) throw notFound('deployment', id);
    return row;
  }

  async list(principal: Principal, pipelineId: string): Promise<DeploymentRow[]> {
    await this.deps.pipelines.require(principal, pipelineId);
    return this.deps.repo.list(principal, pipelineId);
  }

  /**
   * Deletes a pipeline for good, whichever surface asks: out of Dagster first (it must not go on
   * running there), then its rows. A model may not delete a pipeline deployed to an environment
   * whose policy forbids destructive tools.
   */
  async deletePipeline(principal: Principal, pipelineId: string, by: Caller): Promise<void> {
    requireRole(principal, 'edit', 'Deleting a pipeline');
    await this.deps.pipelines.require(principal, pipelineId);
    const deployedTo = (await this.deps.repo.environmentsOf(principal.orgId, pipelineId)).map(({ environment }) => this.deps.connections.get(environment)?.env);
    refuseDestructive(by, deployedTo, 'Deleting this pipeline', 'A person can delete it through the REST API or the UI.');
    // Taking it out of its workspaces is a deploy's work; a pipeline never deployed goes anywhere.
    if (deployedTo.length) requireLocalRuntime(this.deps.runtime ?? NODE_RUNTIME, 'Deleting a deployed pipeline');
    await this.undeploy(principal, pipelineId);
    await this.deps.pipelines.delete(principal, pipelineId);
  }

  /**
   * Takes the pipeline out of every environment it was deployed to (its folder out of its shard,
   * and the location it had before shards), so deleting a pipeline leaves nothing running. Dagster
   * is asked to reload; if it does not answer, the workspace.yaml it reads no longer has the
   * pipeline either way.
   */
  private async undeploy(principal: Principal, pipelineId: string): Promise<void> {
    await this.deps.pipelines.require(principal, pipelineId);
    const environments = new Set((await this.deps.repo.environmentsOf(principal.orgId, pipelineId)).map((e) => e.environment));
    for (const environment of environments) {
      const connection = this.deps.connections.get(environment);
      if (!connection) continue;
      const removed = await this.takeOut(connection, pipelineId);
      if (!removed || !connection.locations) continue;
      const { change, shard, shardLeft } = removed;
      await (shard && !shardLeft && change.removed.length === 0 ? connection.locations.load(shard) : connection.locations.reloadWorkspace()).catch(() => undefined);
    }
  }

  /** Takes the pipeline out of one environment's workspace, once no other deployment's change of its shard is unsettled. */
  private async takeOut(connection: DagsterConnection, pipelineId: string) {
    const { workspace } = connection;
    const legacy = locationNameFor(pipelineId);
    const removed = await untilSettled(
      () =>
        this.deps.locks.run(connection.env.name, async (tx) => {
          await recoverWorkspace(workspace, this.deps.repo.with(tx));
          if (unsettled(workspace, [workspace.findPipeline(pipelineId)?.shard, legacy])) return 'wait' as const;
          const out = removePipeline(workspace, pipelineId, legacy);
          out?.change.commit();
          return { out };
        }),
      60_000,
    );
    if (!removed) throw new AppError('conflict:deployment', `A deployment to "${connection.env.name}" is still changing this pipeline's code location; nothing was removed.`, { hint: 'Try again once it has finished.' });
    return removed.out;
  }
}
