import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DagsterUnavailableError } from '../adapters/dagster/graphql-client.ts';
import type { ShardCheckers } from '../adapters/dagster/shard-check.ts';
import { AppError, toAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { DagsterConnection, DagsterConnections } from './dagster-connections.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import type { WorkspaceLocks } from './workspace-lock.ts';
import { recoverWorkspace } from './workspace-recovery.ts';
import { outdatedMembers, removePipeline, shardFor, shardWith, unsettled, untilSettled, type Deployable } from './shard-change.ts';
import { onlyMembers, type ShardMember } from './shard-files.ts';
import type { WorkspaceChange } from './workspace.ts';
import type { Db } from '../adapters/store/db.ts';
import { keepPaused } from './keep-paused.ts';
import { clusterImageOf, CLUSTER_DIR } from './kubernetes/cluster-files.ts';
import { ensureBlockLibraryWheel } from './block-library-wheel.ts';
import type { TriggerStateRepo } from './trigger-state-repo.ts';
import type { DeploymentReconciler } from './deployment-reconciler.ts';

export interface DeployWorkerDeps {
  repo: DeploymentRepo;
  connections: DagsterConnections;
  locks: WorkspaceLocks;
  /** Compiles the deployment's pipeline version (deterministic: a resumed deploy writes the same bytes). */
  compile(d: DeploymentRow): Promise<Deployable>;
  /** Compiles a deployed version of another pipeline of `d`'s org again, for the current pipeline.json format. */
  recompile(pipelineId: string, version: number, d: DeploymentRow): Promise<ShardMember>;
  /** Load checks of staged shards, one warm checker per Python. */
  checkers: ShardCheckers;
  /** Where pauses of a pipeline's triggers are recorded: a deploy applies them to the version it loads. */
  triggerStates?: TriggerStateRepo;
  /** Moves written deployments to deployed once their Dagster loads them; runs while the worker runs. */
  reconciler?: DeploymentReconciler;
  /** Fault injection for tests: deployments whose staged shard goes in unchecked, for Dagster itself to refuse. */
  uncheckedDeploy?: (d: DeploymentRow) => boolean;
  /** Told each deployment this worker finished (the deploys metric). */
  onFinished?: (status: 'deployed' | 'written' | 'failed') => void;
  logger: Logger;
  leaseSeconds: number;
  concurrency: number;
  maxAttempts?: number;
  pollMs?: number;
}

type Outcome = { status: 'deployed' | 'written' | 'failed'; message: string; error?: string; contentHash?: string; locationName?: string };

const PYTHON_NOT_READY_HINT = 'If npm run dagster is still setting up the virtualenv, wait until it says where Dagster serves, then deploy again.';

/** This worker's lease ran out and another worker took the deployment over: its files are theirs now. */
class LeaseLostError extends Error {}

/**
 * Carries deployments from pending to deployed, written or failed. Any number of workers, in any
 * number of processes, share the deployments table: each holds a lease on what it works on and
 * renews it; what a dead worker held is picked up once its lease expires. What dead workers left
 * in a workspace is cleared when a worker starts and before each deploy (recoverWorkspace).
 */
export class DeployWorker {
  readonly owner = `worker-${randomUUID()}`;
  private readonly deps: DeployWorkerDeps;
  private running = false;
  private active = new Set<Promise<void>>();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(deps: DeployWorkerDeps) {
    this.deps = deps;
  }

  start(): void {
    // Every entry (server, MCP stdio, tests, benchmarks) starts and stops the worker: the
    // reconciler's background checks go with it, in a process that deploys or not.
    this.deps.reconciler?.start();
    if (this.running || this.deps.concurrency === 0) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Looks for work now instead of at the next poll. */
  kick(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.deps.reconciler?.stop();
    this.kick();
    await this.loop;
    await Promise.all(this.active);
    this.deps.checkers.close();
  }

  private async run(): Promise<void> {
    for (const connection of this.deps.connections.all()) await this.recover(connection, { reload: true });
    while (this.running) {
      let claimed: DeploymentRow | null = null;
      if (this.active.size < this.deps.concurrency) {
        try {
          claimed = await this.deps.repo.claimNext(this.owner, this.deps.leaseSeconds, this.deps.maxAttempts ?? 3);
        } catch (error) {
          this.deps.logger.error({ err: error }, 'deploy worker: could not claim a deployment');
        }
      }
      if (claimed) {
        const job: Promise<void> = this.process(claimed).finally(() => {
          this.active.delete(job);
          this.kick();
        });
        this.active.add(job);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.deps.pollMs ?? 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private async process(d: DeploymentRow): Promise<void> {
    const log = this.deps.logger.child({ deployment_id: d.id, pipeline_id: d.pipeline_id, version: d.version, environment: d.environment, attempt: d.attempts });
    log.info('deploying');
    let lost = false;
    const renewal = setInterval(() => {
      this.deps.repo.renew(d.id, this.owner, this.deps.leaseSeconds).then(
        (held) => {
          if (!held) lost = true;
        },
        (error) => log.warn({ err: error }, 'could not renew the deployment lease'),
      );
    }, Math.max(250, (this.deps.leaseSeconds * 1000) / 3));
    try {
      const outcome = await this.deploy(d).catch((error): Outcome => {
        if (error instanceof LeaseLostError) lost = true;
        else log.error({ err: error }, 'deployment failed unexpectedly');
        return { status: 'failed', message: 'The deployment failed.', error: safeMessage(error) };
      });
      if (lost || !(await this.deps.repo.finish(d.id, this.owner, outcome))) {
        log.warn('lost the lease before finishing; another worker carries on');
      } else {
        log.info({ status: outcome.status }, 'deployment finished');
        this.deps.onFinished?.(outcome.status);
      }
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * Clears what interrupted deploys left in the connection's workspace (see recoverWorkspace),
   * under its lock; with `tx`, inside a lock the caller already holds, before deploying `deploying`
   * (whose lease it holds). At start (`reload`), Dagster
   * is asked to reload what was put back; a deploy reloads its own location anyway.
   */
  private async recover(connection: DagsterConnection, opts: { tx?: Db; reload?: boolean; deploying?: string } = {}): Promise<void> {
    const environment = connection.env.name;
    const log = this.deps.logger.child({ environment });
    try {
      const clear = (tx: Db) => recoverWorkspace(connection.workspace, this.deps.repo.with(tx), opts.deploying);
      const { restored, removed } = await (opts.tx ? clear(opts.tx) : this.deps.locks.run(environment, clear));
      if (restored.length === 0 && removed.length === 0) return;
      log.info({ restored, removed }, 'cleared what interrupted deploys left in the workspace');
      if (opts.reload) {
        for (const name of restored) connection.locations?.load(name).catch((error) => log.warn({ err: error, location: name }, 'Dagster did not reload a restored location'));
      }
    } catch (error) {
      if (opts.tx) throw error;
      log.error({ err: error }, 'could not clear what interrupted deploys left in the workspace');
    }
  }

  private async deploy(d: DeploymentRow): Promise<Outcome> {
    const connection = this.deps.connections.get(d.environment);
    if (!connection) return { status: 'failed', message: 'The deployment failed.', error: `Environment "${d.environment}" is no longer configured.` };
    const { workspace, locations } = connection;
    let compiled: Deployable;
    try {
      compiled = await this.deps.compile(d);
    } catch (error) {
      // A version that cannot become files (its dbt project does not parse) is the user's to fix, not a fault here.
      if (!(error instanceof AppError) || error.kind !== 'invalid') throw error;
      return { status: 'failed', message: `Version ${d.version} was not deployed; nothing was changed.`, error: error.message };
    }
    // The shard's requirements.txt installs the block library from the workspace's wheels folder:
    // it is there (and current) before any shard that names it. Built outside the lock: it takes seconds.
    try {
      await ensureBlockLibraryWheel(connection.env.workspaceDir, connection.env.python);
    } catch (error) {
      return {
        status: 'failed',
        message: `Version ${d.version} was not deployed: environment "${d.environment}" could not build the block library's wheel, which its code locations install, with its Python (${connection.env.python}); nothing was changed.`,
        error: `${(error as Error).message}\n${PYTHON_NOT_READY_HINT}`,
      };
    }
    // Files change only while this worker holds the deployment's lease, checked (and renewed) under
    // the lock: once another worker has taken the deployment over, they are that worker's.
    const underLease = <T>(fn: (tx: Db) => T | Promise<T>) =>
      this.deps.locks.run(d.environment, async (tx) => {
        if (!(await this.deps.repo.with(tx).renew(d.id, this.owner, this.deps.leaseSeconds))) throw new LeaseLostError();
        return fn(tx);
      });
    const recompiled = new Map<string, ShardMember>();
    const step = await untilSettled(async () => {
      // Store queries wait for the lock's transaction under PGlite, so the shard's pipelines that
      // need recompiling are recompiled before it is taken (and again if the shard changed meanwhile).
      const { shard } = shardFor(workspace, compiled);
      for (const m of outdatedMembers(workspace, shard, compiled.componentName, compiled.format)) {
        if (!recompiled.has(m.component)) recompiled.set(m.component, await this.deps.recompile(m.pipelineId, m.version, d));
      }
      return underLease((tx) => this.change(tx, d, connection, compiled, recompiled));
    }, Math.max(60_000, this.deps.leaseSeconds * 4000));
    if (!step) {
      const { shard } = shardFor(workspace, compiled);
      return { status: 'failed', message: 'The deployment failed.', error: `Code location ${shard} is being changed by another deployment that has not finished; deploy again once it has.` };
    }
    if (step.kind === 'refused' && step.unready) {
      // Not the version's fault: nothing could load it there yet.
      return {
        status: 'failed',
        contentHash: compiled.contentHash,
        locationName: step.shard,
        message: `Version ${d.version} was not deployed: environment "${d.environment}" cannot load pipelines yet (its Python, ${step.unready}, lacks Dagster or the block library); code location ${step.shard} is unchanged.`,
        error: `${step.error}\n${PYTHON_NOT_READY_HINT}`,
      };
    }
    if (step.kind === 'refused') {
      return { status: 'failed', contentHash: compiled.contentHash, locationName: step.shard, message: `Version ${d.version} does not load, so it was not deployed; code location ${step.shard} is unchanged.`, error: step.error };
    }
    const { change, shard, isNew } = step;
    const settle = (how: 'commit' | 'rollback') => underLease(() => change[how]());
    const where = workspace.locationDir(shard);
    const moved = change.removed.length ? ` (moved out of code location ${change.removed.join(', ')})` : '';
    const done = { contentHash: compiled.contentHash, locationName: shard };

    if (connection.env.kubernetes) {
      await settle('commit');
      return { status: 'written', ...done, message: clusterMessage(connection, shard, where, moved) };
    }
    if (!locations) {
      await settle('commit');
      return { status: 'written', ...done, message: `Written to ${where}${moved}; no Dagster GraphQL URL is configured for "${d.environment}", so Dagster was not asked to load it.` };
    }
    // A location that is new or left workspace.yaml is seen by Dagster only through a workspace reload.
    const wholeWorkspace = isNew || change.removed.length > 0;
    let loaded;
    try {
      loaded = await locations.load(shard, { wholeWorkspace });
    } catch (error) {
      if (!(error instanceof DagsterUnavailableError)) throw error;
      // Keep the files: a Dagster started later (npm run dagster) loads them from workspace.yaml.
      await settle('commit');
      return { status: 'written', ...done, message: `Written to ${where}${moved}, but it is not loaded: ${error.message}. It becomes deployed once Dagster loads it: start Dagster (npm run dagster).` };
    }
    if (loaded.ok) {
      await settle('commit');
      const paused = await keepPaused(this.deps.triggerStates, connection.client, d, shard, compiled.files['pipeline.json']!);
      return { status: 'deployed', ...done, message: `Version ${d.version} is loaded in Dagster in code location ${shard}${moved}.${paused}` };
    }
    // Put the previous files back, on disk and in Dagster, and report Dagster's own words.
    await settle('rollback');
    await (wholeWorkspace ? locations.reloadWorkspace() : locations.load(shard)).catch(() => undefined);
    return { status: 'failed', ...done, message: `Dagster could not load version ${d.version}; the previous version stays in place.`, error: loaded.error };
  }

  /**
   * Under the workspace lock: clears what an earlier attempt left, places the pipeline, checks that
   * the components it writes load (when a Dagster will load them; see onlyMembers), stages the
   * shard's new copy and swaps it in,
   * taking the pipeline's legacy location out in the same step. Waits while another deployment's
   * change of that shard is not settled: rolling it back would drop this one's.
   */
  private async change(tx: Db, d: DeploymentRow, connection: DagsterConnection, compiled: Deployable, recompiled: Map<string, ShardMember>): Promise<Step | 'wait'> {
    const { workspace } = connection;
    await this.recover(connection, { tx, deploying: d.id });
    const { shard, isNew } = shardFor(workspace, compiled);
    if (unsettled(workspace, [shard, compiled.legacyLocationName])) return 'wait';
    const holder = workspace.memberOf(shard, compiled.componentName);
    if (holder && holder.pipelineId !== d.pipeline_id) {
      return { kind: 'refused', shard, error: `Folder ${compiled.componentName} of code location ${shard} holds another pipeline (${holder.pipelineId}).` };
    }
    // A first deploy that died after its files went in place left them there with nothing kept
    // before them (one deployment of a pipeline to an environment runs at a time, and a failed
    // one rolls back): they are not a version to roll back to. Without this, a resumed deploy
    // whose load fails would put the dead attempt's files back instead of leaving none.
    if (holder && d.attempts > 1 && !(await this.deps.repo.with(tx).inPlace(d.org_id, d.pipeline_id, d.environment))) {
      removePipeline(workspace, d.pipeline_id)?.change.commit();
      return this.change(tx, d, connection, compiled, recompiled);
    }
    const next = shardWith(workspace, shard, compiled, recompiled);
    if (!next) return 'wait';
    // Checked where a Dagster will load it: this service's, or a cluster's (whose image is built from these files).
    if ((connection.locations || connection.env.kubernetes) && !this.deps.uncheckedDeploy?.(d)) {
      const checking = workspace.stage(shard, onlyMembers(shard, next.files, next.written));
      const checked = await this.deps.checkers.for(connection.env.python).check(checking);
      workspace.discard(checking);
      if (!checked.ok) return { kind: 'refused', shard, error: checked.error, ...(checked.unready ? { unready: connection.env.python } : {}) };
    }
    const staged = workspace.stage(shard, next.files);
    const legacy = workspace.hasLocation(compiled.legacyLocationName) ? [compiled.legacyLocationName] : [];
    return { kind: 'swapped', shard, isNew, change: workspace.swapIn(shard, staged, { deploymentId: d.id, remove: legacy }) };
  }
}

/** What a deploy did to the workspace; 'wait' when another deployment's change of the shard is not settled, or a member still needs recompiling. */
type Step = { kind: 'swapped'; shard: string; isNew: boolean; change: WorkspaceChange } | { kind: 'refused'; shard: string; error: string; /** The Python that could not run the check at all. */ unready?: string };

/** What a deploy to a cluster's environment leaves to the team: this service builds and applies nothing there. */
function clusterMessage(connection: DagsterConnection, shard: string, where: string, moved: string): string {
  const built = clusterImageOf(connection.workspace, shard)!;
  const dir = join(connection.workspace.dir, CLUSTER_DIR);
  return (
    `Written to ${where}${moved}. Environment "${connection.env.name}" runs on Kubernetes: build image ${built.image} from ${built.dockerfile} ` +
    `(${dir}/build-images.sh builds them all), then apply ${dir}/manifests or the Helm values there; this service applies nothing to the cluster.`
  );
}

function safeMessage(error: unknown): string {
  const e = toAppError(error);
  return e.kind === 'internal' ? 'An internal error stopped the deployment; the logs have the details.' : e.message;
}
