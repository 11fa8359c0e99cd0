import { z } from 'zod';
import type { ToolDefinition } from '../tool.ts';
import { launchRun } from './operations.ts';
import { backfillView, environment, pipelineId } from './shared.ts';

/** Which partitions: from and to, or a list; the same fields on REST and in the tool. */
export const partitionFields = {
  from: z.string().min(1).optional().describe('First partition key of the range, e.g. "2024-01-01" for daily partitions'),
  to: z.string().min(1).optional().describe('Last partition key of the range (included); its window must have ended'),
  partitions: z.array(z.string().min(1)).min(1).max(366).optional().describe('Instead of from/to: the partition keys, e.g. ["2024-01-05"] to re-run one'),
};

export const backfillPipeline = {
  name: 'backfill_pipeline',
  title: 'Backfill partitions',
  description:
    'Run a deployed, partitioned pipeline\'s job once per partition over a range (from/to, both included, at most 366) or a list of partition keys, as a Dagster backfill. To re-run one partition, give partitions with that one key. Keys must be partitions Dagster lists now: on or after start_date, before end_date, and windows that have ended. Returns the backfill id and progress; follow it with pipeline_status and backfill_id.',
  group: 'runs',
  input: z.object({
    pipeline_id: pipelineId,
    environment: environment.optional().describe("Where it is deployed; the last deployment's environment when omitted"),
    job: z.string().min(1).optional().describe('A job id from the spec; every block when omitted'),
    ...partitionFields,
  }),
  output: backfillView,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  // Starting runs: the rule launch_run follows, not a copy of it.
  needsApproval: launchRun.needsApproval,
  untrustedOutput: false,
} satisfies ToolDefinition;
