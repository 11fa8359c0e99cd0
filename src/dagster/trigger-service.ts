import type { Principal } from '../auth/principal.ts';
import { requireRole } from '../auth/roles.ts';
import type { CompileService } from '../compile/compile-service.ts';
import { AppError } from '../errors.ts';
import type { PipelineService } from '../pipelines/pipeline-service.ts';
import type { DagsterConnections } from './dagster-connections.ts';
import { setTriggerStates, triggerNames, type TriggerState } from './dagster-triggers.ts';
import type { DeploymentReconciler } from './deployment-reconciler.ts';
import type { DeploymentRepo } from './deployment-repo.ts';
import type { TriggerStateRepo } from './trigger-state-repo.ts';

export interface TriggerStatesView {
  pipeline_id: string;
  paused: boolean;
  environments: Array<{
    environment: string;
    /** Whether Dagster was told now; otherwise the state is recorded and the next deploy applies it. */
    applied: boolean;
    message: string;
    triggers: TriggerState[];
  }>;
}

/**
 * Pausing and resuming a pipeline's schedules and sensors without deleting it, the one place every
 * surface (REST, MCP, chat) goes through. The wanted state is recorded per environment, and Dagster
 * is told at once where the pipeline is loaded; a deploy applies a recorded pause to the version it
 * loads, so triggers the new version adds do not start running behind the user's back.
 */
export class TriggerService {
  private readonly deps: {
    states: TriggerStateRepo;
    deployments: DeploymentRepo;
    /** The live deployment, a written one Dagster has loaded since included. */
    reconciler: DeploymentReconciler;
    pipelines: PipelineService;
    compiler: CompileService;
    connections: DagsterConnections;
  };

  constructor(deps: TriggerService['deps']) {
    this.deps = deps;
  }

  /** Pauses (`paused`) or resumes the pipeline's triggers in `environment`, or in every environment it is deployed to. */
  async set(principal: Principal, pipelineId: string, paused: boolean, opts: { environment?: string | undefined } = {}): Promise<TriggerStatesView> {
    requireRole(principal, 'run', paused ? "Pausing a pipeline's schedules and sensors" : "Resuming a pipeline's schedules and sensors");
    await this.deps.pipelines.require(principal, pipelineId);
    const environments = opts.environment
      ? [this.deps.connections.require(opts.environment).env.name]
      : [...new Set((await this.deps.deployments.environmentsOf(principal.orgId, pipelineId)).map((e) => e.environment))].filter((name) => this.deps.connections.get(name));
    if (environments.length === 0) {
      throw new AppError('invalid:environment', 'This pipeline is not deployed anywhere, so there are no triggers to pause or resume.', {
        hint: `Name the environment (one of ${this.deps.connections.names().join(', ')}) to record the state its first deploy will apply.`,
        issues: [{ code: 'missing_field', path: '/environment', message: 'environment is required for a pipeline that is not deployed' }],
      });
    }
    const view: TriggerStatesView = { pipeline_id: pipelineId, paused, environments: [] };
    for (const environment of environments) {
      await this.deps.states.set(principal, pipelineId, environment, paused);
      view.environments.push({ environment, ...(await this.apply(principal, pipelineId, environment, paused)) });
    }
    return view;
  }

  private async apply(principal: Principal, pipelineId: string, environment: string, paused: boolean) {
    const verb = paused ? 'paused' : 'resumed';
    const live = await this.deps.reconciler.live(principal.orgId, pipelineId, environment);
    const client = this.deps.connections.get(environment)?.client;
    if (!live || !client) {
      const why = !client ? 'no Dagster GraphQL URL is configured there' : 'no version is loaded in Dagster there';
      return { applied: false, message: `Recorded: ${why}; the next deploy starts the triggers ${verb}.`, triggers: [] };
    }
    const compiled = await this.deps.compiler.compileDeployed(principal, pipelineId, live.version);
    const triggers = await setTriggerStates(client, live.location_name, triggerNames(compiled.files['pipeline.json']!), paused);
    return { applied: true, message: `${triggers.length} trigger${triggers.length === 1 ? '' : 's'} of version ${live.version} ${verb} in code location ${live.location_name}.`, triggers };
  }
}
