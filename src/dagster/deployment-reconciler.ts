import { DagsterUnavailableError } from '../adapters/dagster/graphql-client.ts';
import type { Logger } from '../logger.ts';
import type { DagsterConnection, DagsterConnections } from './dagster-connections.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import { keepPaused } from './keep-paused.ts';
import type { TriggerStateRepo } from './trigger-state-repo.ts';

export interface DeploymentReconcilerDeps {
  repo: DeploymentRepo;
  connections: DagsterConnections;
  /** Where pauses are recorded: a version found loaded gets its pipeline's pause, as a deploy's does. */
  triggerStates?: TriggerStateRepo;
  logger: Logger;
  /** How often written deployments are checked in the background; 0: only when asked (live). */
  intervalMs: number;
  /** How long a location Dagster answered it could not load is left alone: each try is a reload. */
  retryFailedMs?: number;
}

/**
 * A deployment is `written` when its files went in place but its Dagster did not answer (not yet
 * started: `npm run dagster` after `npm start`). Once that Dagster loads the location, the
 * deployment is live: this moves it to `deployed`, with the check a deploy makes (DagsterLocations
 * .load: Dagster reloads the location from the files in place and says it loaded), for
 * deployments whose version those files still hold. It runs in the background, so that every
 * status read (REST, tools, chat) sees the change, and at once where a caller needs a live
 * version (launching a run, a backfill, pausing triggers), so that no one is told "not deployed"
 * while a sweep is due. Several service instances may do this at once: the store's conditional
 * update decides (DeploymentRepo.promoteWritten).
 */
export class DeploymentReconciler {
  private readonly deps: DeploymentReconcilerDeps;
  /** Location key → when Dagster last answered that it could not load it. */
  private readonly failedAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(deps: DeploymentReconcilerDeps) {
    this.deps = deps;
  }

  start(): void {
    if (this.timer || this.deps.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = null));
    }, this.deps.intervalMs);
    // Stopped with the deploy worker; a process that forgets to stop it still exits.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** The pipeline's live deployment in an environment, after bringing a written one up to date. */
  async live(orgId: string, pipelineId: string, environment: string): Promise<DeploymentRow | null> {
    const inPlace = await this.deps.repo.inPlace(orgId, pipelineId, environment);
    if (inPlace?.status === 'written') await this.reconcile(environment, inPlace.location_name, [inPlace]);
    return this.deps.repo.live(orgId, pipelineId, environment);
  }

  /** Checks every written deployment of the environments that have a Dagster, one reload per location. */
  async sweep(): Promise<void> {
    const environments = this.deps.connections.all().filter((c) => c.locations).map((c) => c.env.name);
    try {
      const byLocation = new Map<string, DeploymentRow[]>();
      for (const d of await this.deps.repo.writtenIn(environments)) {
        const key = `${d.environment}\n${d.location_name}`;
        byLocation.set(key, [...(byLocation.get(key) ?? []), d]);
      }
      const unreachable = new Set<string>();
      for (const rows of byLocation.values()) {
        const { environment, location_name } = rows[0]!;
        if (unreachable.has(environment)) continue;
        if ((await this.reconcile(environment, location_name, rows)) === 'unreachable') unreachable.add(environment);
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not check written deployments against Dagster');
    }
  }

  /** Promotes the rows (written deployments in one location) whose version Dagster has loaded. */
  private async reconcile(environment: string, location: string, rows: DeploymentRow[]): Promise<'unreachable' | void> {
    const connection = this.deps.connections.get(environment);
    if (!connection?.locations) return;
    const expected = rows.flatMap((d) => {
      const pipelineJson = filesOf(connection, d);
      return pipelineJson ? [{ d, pipelineJson }] : [];
    });
    const key = `${environment}\n${location}`;
    const failed = this.failedAt.get(key);
    if (expected.length === 0 || (failed !== undefined && Date.now() - failed < (this.deps.retryFailedMs ?? 60_000))) return;
    const log = this.deps.logger.child({ environment, location });
    let outcome;
    try {
      outcome = await connection.locations.load(location);
    } catch (error) {
      if (error instanceof DagsterUnavailableError) return 'unreachable';
      log.warn({ err: error }, 'could not ask Dagster whether it loaded written deployments');
      return;
    }
    if (!outcome.ok) {
      this.failedAt.set(key, Date.now());
      log.warn({ error: outcome.error }, 'Dagster answers but does not load a location that holds written deployments');
      return;
    }
    this.failedAt.delete(key);
    for (const { d, pipelineJson } of expected) {
      const paused = await keepPaused(this.deps.triggerStates, connection.client, d, location, pipelineJson);
      const message = `Version ${d.version} is loaded in Dagster in code location ${location} (Dagster was not answering when it was written).${paused}`;
      if (await this.deps.repo.promoteWritten(d.id, d.version, message)) log.info({ deployment_id: d.id, pipeline_id: d.pipeline_id, version: d.version }, 'written deployment is loaded in Dagster: deployed');
    }
  }
}

/**
 * The pipeline.json in the deployment's location, when those files hold its version of its
 * pipeline (what a reload loads); null when they are another version's, or gone.
 */
function filesOf({ workspace }: DagsterConnection, d: DeploymentRow): string | null {
  const found = workspace.findPipeline(d.pipeline_id);
  if (found?.shard !== d.location_name || workspace.memberOf(found.shard, found.component)?.version !== d.version) return null;
  try {
    return workspace.pipelineJson(found.shard, found.component);
  } catch {
    return null; // replaced a moment ago
  }
}
