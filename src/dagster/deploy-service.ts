import type { Principal } from '../auth/principal.ts';
import type { CompileService } from '../compile/compile-service.ts';
import { AppError, notFound } from '../errors.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import type { DagsterConnections } from './dagster-connections.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import type { DeployWorker } from './deploy-worker.ts';
import { secretIssues } from './required-secrets.ts';
import type { WorkspaceLocks } from './workspace-lock.ts';

export interface DeployRequest {
  environment?: string;
  /** A stored version to deploy; the current one by default. An earlier one is a rollback. */
  version?: number;
  requestId?: string;
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
  };

  constructor(deps: DeployService['deps']) {
    this.deps = deps;
  }

  async request(principal: Principal, pipelineId: string, req: DeployRequest): Promise<DeploymentRow> {
    const compiled = await this.deps.compiler.compile(principal, pipelineId, req.version);
    const spec = compiled.view.version.spec;
    const environment = req.environment ?? spec.environment ?? (this.deps.connections.names().length === 1 ? this.deps.connections.names()[0]! : undefined);
    const connection = environment ? this.deps.connections.get(environment) : undefined;
    if (!environment || !connection) {
      throw new AppError('invalid:environment', environment ? `There is no environment "${environment}".` : 'Say which environment to deploy to.', {
        hint: `Environments: ${this.deps.connections.names().join(', ')}.`,
        issues: [{ code: 'unknown_environment', path: '/environment', message: environment ? `"${environment}" is not configured` : 'environment is required' }],
      });
    }
    const missing = secretIssues(connection.env, spec, compiled.types);
    if (missing.length) {
      throw new AppError('invalid:deployment', `The pipeline needs ${missing.length} secret${missing.length === 1 ? '' : 's'} that "${environment}" does not have; nothing was deployed.`, {
        hint: 'Each issue names the secret and the block config that asks for it.',
        issues: missing,
      });
    }
    const row = await this.deps.repo.create(principal, {
      pipelineId,
      version: compiled.view.version.version,
      environment,
      locationName: compiled.locationName,
      ...(req.requestId ? { requestId: req.requestId } : {}),
    });
    this.deps.worker.kick();
    return row;
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
   * Takes the pipeline's code location out of every environment it was deployed to, so deleting
   * a pipeline leaves nothing running. Dagster is asked to reload; if it does not answer, the
   * workspace.yaml it reads no longer lists the location either way.
   */
  async undeploy(principal: Principal, pipelineId: string): Promise<void> {
    await this.deps.pipelines.require(principal, pipelineId);
    for (const { environment, location_name } of await this.deps.repo.environmentsOf(pipelineId)) {
      const connection = this.deps.connections.get(environment);
      if (!connection) continue;
      const removed = await this.deps.locks.run(environment, () => connection.workspace.removeLocation(location_name));
      if (removed) await connection.locations?.reloadWorkspace().catch(() => undefined);
    }
  }
}
