/** Dagster's run statuses as the seed's pipeline status words. */
const SEED_STATUS: Record<string, 'running' | 'completed' | 'failed'> = {
  QUEUED: 'running',
  NOT_STARTED: 'running',
  MANAGED: 'running',
  STARTING: 'running',
  STARTED: 'running',
  SUCCESS: 'completed',
  FAILURE: 'failed',
  CANCELING: 'failed',
  CANCELED: 'failed',
};

export const seedStatusOf = (dagsterStatus: string) => SEED_STATUS[dagsterStatus] ?? 'running';

export const FINISHED = new Set(['SUCCESS', 'FAILURE', 'CANCELED']);

/** Tags on every run we launch, and (from pipeline.json) on every run of a deployed job. */
export const TAG = {
  pipelineId: 'constellation/pipeline_id',
  version: 'constellation/pipeline_version',
  environment: 'constellation/environment',
  requestId: 'constellation/request_id',
  deploymentId: 'constellation/deployment_id',
} as const;

/** The tag Dagster reads a run's partition from (and writes on every run of a backfill). */
export const PARTITION_TAG = 'dagster/partition';
