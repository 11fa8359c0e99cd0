import { z } from 'zod';
import { STORE_INT_MAX } from '../../src/input-guard.ts';

export const pipelineId = z.uuid().describe('The pipeline id (a UUID), as returned by propose_pipeline or list_pipelines');
export const version = z.number().int().min(1).max(STORE_INT_MAX).describe('A stored version number; the current version when omitted');
export const environment = z.string().min(1).describe('Target environment name, e.g. "development", "staging" or "production"; see list_environments');

export const issue = z.object({
  code: z.string().optional().describe('Kind of problem, e.g. "invalid_config", "cycle"'),
  path: z.string().describe('JSON Pointer into the input, e.g. "/blocks/1/config/table"'),
  message: z.string(),
  hint: z.string().optional().describe('How to fix it'),
});

export const blockTypeSummary = z
  .object({
    ref: z.string().describe('"slug@version", what a pipeline block\'s "type" takes'),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    tags: z.array(z.string()),
    inputs: z.array(z.object({ name: z.string(), type: z.string(), required: z.boolean(), multiple: z.boolean() }).passthrough()),
    outputs: z.array(z.object({ name: z.string(), type: z.string() }).passthrough()),
    secrets: z.array(z.object({ name: z.string() }).passthrough()),
  })
  .passthrough();

export const pipelineSummary = z.object({
  pipeline_id: z.uuid(),
  name: z.string(),
  current_version: z.number().int(),
  updated_at: z.string(),
});

export const runView = z.object({
  run_id: z.string(),
  status: z.string().describe('running, completed or failed'),
  dagster_status: z.string(),
  job: z.string(),
  environment: z.string(),
  version: z.number().int().nullable(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  url: z.string().describe('The run in the Dagster UI'),
});

/** A backfill as every surface shows it (the REST route answers the same). */
export const backfillView = z.object({
  backfill_id: z.string(),
  pipeline_id: z.uuid(),
  environment: z.string(),
  job: z.string().describe('The job id from the spec'),
  version: z.number().int().nullable(),
  status: z.enum(['requested', 'in_progress', 'completed', 'failed', 'canceled']).describe('completed or failed once every partition\'s run has ended'),
  dagster_status: z.string().describe("Dagster's own status (REQUESTED, COMPLETED, FAILED, CANCELED, …)"),
  partitions: z.object({ total: z.number().int(), succeeded: z.number().int(), failed: z.number().int(), in_progress: z.number().int(), not_started: z.number().int() }),
  runs: z.array(z.object({ run_id: z.string(), partition: z.string(), status: z.string().describe('running, completed or failed'), dagster_status: z.string(), url: z.string() })),
  created_at: z.string(),
  ended_at: z.string().nullable(),
  error: z.string().nullable().describe("Dagster's error when the backfill itself failed"),
  url: z.string().describe('The backfill in the Dagster UI'),
});
