import { BACKFILL, LAUNCH_BACKFILL } from '../adapters/dagster/documents.ts';
import { requireRole } from '../auth/roles.ts';
import { dagsterMessage, dagsterRefusal } from '../adapters/dagster/dagster-errors.ts';
import type { Principal } from '../auth/principal.ts';
import { specJobId } from '../compile/naming.ts';
import { AppError } from '../errors.ts';
import { partitionRequestOf, partitionsFor, type PartitionFields } from './partition-keys.ts';
import { executionTags, type PipelineScopes, type Scope } from './pipeline-scope.ts';
import { FINISHED, seedStatusOf, TAG } from './run-status.ts';

export type BackfillStatus = 'requested' | 'in_progress' | 'completed' | 'failed' | 'canceled';

export interface BackfillView {
  backfill_id: string;
  pipeline_id: string;
  environment: string;
  job: string;
  version: number | null;
  status: BackfillStatus;
  /** Dagster's own BulkActionStatus (REQUESTED, COMPLETED, FAILED, CANCELED, …). */
  dagster_status: string;
  partitions: { total: number; succeeded: number; failed: number; in_progress: number; not_started: number };
  runs: Array<{ run_id: string; partition: string; status: 'running' | 'completed' | 'failed'; dagster_status: string; url: string }>;
  created_at: string;
  ended_at: string | null;
  /** Dagster's error when the backfill itself failed (not one of its runs). */
  error: string | null;
  url: string;
}

interface DagsterBackfill {
  id: string;
  status: string;
  numPartitions: number | null;
  partitionNames: string[] | null;
  partitionSetName: string | null;
  timestamp: number;
  endTimestamp: number | null;
  tags: Array<{ key: string; value: string }>;
  error: { message: string } | null;
  partitionStatuses: { results: Array<{ partitionName: string; runId: string | null; runStatus: string | null }> } | null;
}

// Dagster names the partition set of a partitioned job after the job.
const PARTITION_SET_SUFFIX = '_partition_set';
const SUCCEEDED = new Set(['SUCCESS']);

const iso = (seconds: number | null) => (seconds ? new Date(seconds * 1000).toISOString() : null);

/**
 * Backfills of a deployed, partitioned pipeline: a job run once per partition of a range, by
 * Dagster's daemon (launchPartitionBackfill), and their progress. REST, MCP and chat all start
 * and read them here. Which environment and job, and the tags the runs carry, are the same rule
 * as launching a run (PipelineScopes); which partitions, the rule a partitioned run obeys too
 * (partitionsFor).
 */
export class BackfillService {
  private readonly deps: { scopes: PipelineScopes };

  constructor(deps: BackfillService['deps']) {
    this.deps = deps;
  }

  /** Asks Dagster to run the job once for each named partition (at most 366, each one Dagster lists now). */
  async start(principal: Principal, pipelineId: string, opts: { environment?: string; job?: string; requestId?: string } & PartitionFields): Promise<BackfillView> {
    requireRole(principal, 'run', 'Starting a backfill');
    const request = partitionRequestOf(opts);
    const target = await this.deps.scopes.liveJob(principal, pipelineId, opts);
    const partitionNames = await partitionsFor(target, request);
    const { repositoryLocationName, repositoryName, jobName } = target.selector;
    const data = await target.client.request(LAUNCH_BACKFILL, {
      params: {
        selector: { partitionSetName: `${jobName}${PARTITION_SET_SUFFIX}`, repositorySelector: { repositoryLocationName, repositoryName } },
        partitionNames,
        tags: executionTags(target.tags),
      },
    });
    const result = data.launchPartitionBackfill;
    if (result.__typename !== 'LaunchBackfillSuccess') throw dagsterRefusal(result, `Dagster did not start the backfill of job "${target.job}"`);
    return this.backfillOf(target, pipelineId, result.backfillId);
  }

  async get(principal: Principal, pipelineId: string, backfillId: string, environment?: string): Promise<BackfillView> {
    return this.backfillOf(await this.deps.scopes.of(principal, pipelineId, environment), pipelineId, backfillId);
  }

  private async backfillOf(scope: Scope, pipelineId: string, backfillId: string): Promise<BackfillView> {
    const data = await scope.client.request(BACKFILL, { backfillId });
    const backfill = data.partitionBackfillOrError;
    if (backfill.__typename === 'PythonError') throw dagsterRefusal(backfill, `Dagster could not read backfill ${backfillId}`);
    // A backfill of another pipeline is as good as absent: ids are not capabilities.
    if (backfill.__typename !== 'PartitionBackfill' || !backfill.tags.some((t: { key: string; value: string }) => t.key === TAG.pipelineId && t.value === pipelineId)) {
      throw new AppError('not_found:backfill', `Pipeline "${pipelineId}" has no backfill "${backfillId}" in "${scope.env}".`, { hint: 'Use the backfill_id that starting the backfill returned, and the environment it ran in.' });
    }
    return this.view(backfill, pipelineId, scope);
  }

  private view(b: DagsterBackfill, pipelineId: string, { env, client, slug }: Scope): BackfillView {
    const tags = Object.fromEntries(b.tags.map((t) => [t.key, t.value]));
    const statuses = b.partitionStatuses?.results ?? [];
    const byPartition = new Map(statuses.map((s) => [s.partitionName, s]));
    const names = b.partitionNames ?? statuses.map((s) => s.partitionName);
    const partitions = { total: b.numPartitions ?? names.length, succeeded: 0, failed: 0, in_progress: 0, not_started: 0 };
    for (const name of names) {
      const runStatus = byPartition.get(name)?.runStatus;
      if (!runStatus) partitions.not_started++;
      else if (SUCCEEDED.has(runStatus)) partitions.succeeded++;
      else if (FINISHED.has(runStatus)) partitions.failed++;
      else partitions.in_progress++;
    }
    const runs = statuses
      .filter((s): s is typeof s & { runId: string } => !!s.runId)
      .map((s) => ({ run_id: s.runId, partition: s.partitionName, status: seedStatusOf(s.runStatus ?? 'QUEUED'), dagster_status: s.runStatus ?? 'QUEUED', url: `${client.uiUrl}/runs/${s.runId}` }));
    const jobName = (b.partitionSetName ?? '').replace(new RegExp(`${PARTITION_SET_SUFFIX}$`), '');
    return {
      backfill_id: b.id,
      pipeline_id: pipelineId,
      environment: env,
      job: specJobId(slug, jobName),
      version: tags[TAG.version] ? Number(tags[TAG.version]) : null,
      status: backfillStatus(b.status, partitions),
      dagster_status: b.status,
      partitions,
      runs,
      created_at: iso(b.timestamp)!,
      ended_at: iso(b.endTimestamp),
      error: b.error ? backfillError(b.error.message) : null,
      url: `${client.uiUrl}/runs/b/${b.id}`,
    };
  }
}

/**
 * Dagster's error for a failed backfill, trimmed. Its daemon submits the runs from its own view
 * of the workspace, reloaded about once a minute: a backfill it took up sooner after a deploy
 * failed for want of the location or the job (seen with a real daemon: "Location … does not exist
 * in workspace"), and the same request a minute later runs. Say so.
 */
export function backfillError(raw: string): string {
  const message = dagsterMessage(raw);
  const stale = /does not exist in workspace|Could not find (?:partition set|repository)/.test(message);
  return stale ? `${message}. Dagster's daemon had not loaded this version of the pipeline yet (it reloads its workspace about once a minute after a deploy): start the backfill again in a minute.` : message;
}

/**
 * The backfill's status in the words every surface shows. Dagster's own status says whether its
 * daemon is still submitting runs; whether the work is done is in the runs, so a backfill is
 * completed (or failed) only when every partition's run has ended.
 */
export function backfillStatus(dagsterStatus: string, p: BackfillView['partitions']): BackfillStatus {
  if (dagsterStatus === 'CANCELED' || dagsterStatus === 'CANCELING') return 'canceled';
  if (dagsterStatus === 'FAILED' || dagsterStatus === 'FAILING') return 'failed';
  const ended = p.succeeded + p.failed;
  if (ended === p.total && p.total > 0) return p.failed > 0 ? 'failed' : 'completed';
  if (dagsterStatus === 'COMPLETED_FAILED') return 'failed';
  return ended + p.in_progress > 0 ? 'in_progress' : 'requested';
}
