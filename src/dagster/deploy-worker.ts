import { randomUUID } from 'node:crypto';
import { DagsterUnavailableError } from '../adapters/dagster/graphql-client.ts';
import type { CompiledLocation } from '../compile/compile-pipeline.ts';
import { toAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { DagsterConnections } from './dagster-connections.ts';
import type { DeploymentRepo, DeploymentRow } from './deployment-repo.ts';
import type { WorkspaceLocks } from './workspace-lock.ts';

export interface DeployWorkerDeps {
  repo: DeploymentRepo;
  connections: DagsterConnections;
  locks: WorkspaceLocks;
  /** Compiles the deployment's pipeline version (deterministic: a resumed deploy writes the same bytes). */
  compile(d: DeploymentRow): Promise<CompiledLocation>;
  logger: Logger;
  leaseSeconds: number;
  concurrency: number;
  maxAttempts?: number;
  pollMs?: number;
}

type Outcome = { status: 'deployed' | 'written' | 'failed'; message: string; error?: string; contentHash?: string };

/**
 * Carries deployments from pending to deployed, written or failed. Any number of workers, in any
 * number of processes, share the deployments table: each holds a lease on what it works on and
 * renews it; what a dead worker held is picked up once its lease expires.
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
    this.kick();
    await this.loop;
    await Promise.all(this.active);
  }

  private async run(): Promise<void> {
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
        log.error({ err: error }, 'deployment failed unexpectedly');
        return { status: 'failed', message: 'The deployment failed.', error: safeMessage(error) };
      });
      if (lost || !(await this.deps.repo.finish(d.id, this.owner, outcome))) {
        log.warn('lost the lease before finishing; another worker carries on');
      } else {
        log.info({ status: outcome.status }, 'deployment finished');
      }
    } finally {
      clearInterval(renewal);
    }
  }

  private async deploy(d: DeploymentRow): Promise<Outcome> {
    const connection = this.deps.connections.get(d.environment);
    if (!connection) return { status: 'failed', message: 'The deployment failed.', error: `Environment "${d.environment}" is no longer configured.` };
    const { workspace, locations } = connection;
    const compiled = await this.deps.compile(d);
    const change = await this.deps.locks.run(d.environment, () => workspace.replaceLocation(compiled.locationName, compiled.files));
    const where = workspace.locationDir(compiled.locationName);

    if (!locations) {
      await this.deps.locks.run(d.environment, () => change.commit());
      return { status: 'written', contentHash: compiled.contentHash, message: `Written to ${where}; no Dagster GraphQL URL is configured for "${d.environment}", so Dagster was not asked to load it.` };
    }
    let loaded;
    try {
      loaded = await locations.load(compiled.locationName);
    } catch (error) {
      if (!(error instanceof DagsterUnavailableError)) throw error;
      // Keep the files: a Dagster started later (npm run dagster) loads them from workspace.yaml.
      await this.deps.locks.run(d.environment, () => change.commit());
      return { status: 'written', contentHash: compiled.contentHash, message: `Written to ${where}, but it is not loaded: ${error.message}. Start Dagster (npm run dagster) and deploy again to verify.` };
    }
    if (loaded.ok) {
      await this.deps.locks.run(d.environment, () => change.commit());
      return { status: 'deployed', contentHash: compiled.contentHash, message: `Version ${d.version} is loaded in Dagster as code location ${compiled.locationName}.` };
    }
    // Put the previous version back, on disk and in Dagster, and report Dagster's own words.
    await this.deps.locks.run(d.environment, () => change.rollback());
    await (workspace.hasLocation(compiled.locationName) ? locations.load(compiled.locationName) : locations.reloadWorkspace()).catch(() => undefined);
    return { status: 'failed', contentHash: compiled.contentHash, message: `Dagster could not load version ${d.version}; the previous version stays in place.`, error: loaded.error };
  }
}

function safeMessage(error: unknown): string {
  const e = toAppError(error);
  return e.kind === 'internal' ? 'An internal error stopped the deployment; the logs have the details.' : e.message;
}
