import { z } from 'zod';
import { columnContractSchema } from '../catalog/manifest-schema.ts';

/**
 * A pipeline version's spec: what the model proposes, what validation checks and what compiles
 * to a Dagster code location. Field descriptions are written for models; unknown fields are
 * rejected so a typo is reported instead of silently ignored.
 */
const id = (what: string) =>
  z.string().min(1).describe(`${what} id: lower snake_case, starts with a letter, at most 63 characters, not a Python keyword nor a name Dagster refuses (input, output, str, meta, context, config…); becomes a Dagster name`);

export const retryPolicySchema = z
  .object({
    max_retries: z.number().int().min(0).max(100).describe('How many times a failed step is retried'),
    delay_seconds: z.number().min(0).max(86_400).default(0).describe('Wait before each retry, in seconds'),
    backoff: z.enum(['linear', 'exponential']).optional().describe('How the delay grows between retries'),
    jitter: z.enum(['full', 'plus_minus']).optional().describe('Random variation added to the delay'),
  })
  .strict();

export const blockInstanceSchema = z
  .object({
    id: id('Block'),
    type: z.string().min(1).describe('Catalog block type as "slug@version", e.g. "postgres_incremental_extract@1"'),
    name: z.string().max(200).optional().describe('Display name'),
    description: z.string().max(4000).optional(),
    config: z.record(z.string(), z.unknown()).default({}).describe("Settings, checked against the block type's config_schema"),
    retry_policy: retryPolicySchema.optional().describe('Overrides the pipeline retry policy for this block'),
    contracts: z
      .record(z.string(), z.object({ columns: z.array(columnContractSchema).min(1).describe('Columns the output carries') }).strict())
      .optional()
      .describe('What you know of this block\'s table outputs, by output port name, e.g. {"rows": {"columns": [{"name": "id", "type": "integer"}]}}; validation checks the blocks they feed need nothing else'),
  })
  .strict();

export const portRefSchema = z
  .object({
    block: z.string().min(1).describe('Block id'),
    port: z.string().min(1).describe('Port name on that block'),
  })
  .strict();

export const edgeSchema = z
  .object({
    from: portRefSchema.describe("An output port: data leaves here"),
    to: portRefSchema.describe('An input port: data arrives here'),
  })
  .strict();

export const jobSchema = z
  .object({
    id: id('Job'),
    description: z.string().max(4000).optional(),
    blocks: z.array(z.string().min(1)).min(1).describe('Ids of the blocks this job materializes'),
    checks: z.boolean().optional().describe('false runs no asset check of these blocks (an emergency refresh that skips checks); default true'),
  })
  .strict();

export const scheduleSchema = z
  .object({
    id: id('Schedule'),
    job: z.string().min(1).optional().describe('Job id to run; omitted runs every block'),
    cron: z.string().min(1).describe('Five-field standard cron (numbers, JAN-DEC/SUN-SAT, *, lists, ascending ranges, steps; no L, W, #, ?, H), e.g. "0 */6 * * *" for every 6 hours, or @hourly/@daily/@weekly/@monthly/@yearly'),
    timezone: z.string().default('UTC').describe('IANA time zone, e.g. "Europe/Berlin"'),
    description: z.string().max(4000).optional(),
  })
  .strict();

export const sensorSchema = z
  .object({
    id: id('Sensor'),
    type: z.string().min(1).describe('A trigger block type, e.g. "file_arrival_sensor@1"'),
    job: z.string().min(1).optional().describe('Job id to run; omitted runs every block'),
    config: z.record(z.string(), z.unknown()).default({}),
    description: z.string().max(4000).optional(),
  })
  .strict();

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use a date like "2024-01-31"');

export const partitionsSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.enum(['hourly', 'daily', 'weekly', 'monthly']),
      start_date: isoDate.describe('First partition'),
      end_date: isoDate.optional(),
      timezone: z.string().default('UTC'),
    })
    .strict(),
  z
    .object({
      type: z.literal('static'),
      values: z.array(z.string().min(1)).min(1).describe('Partition keys, each once, without "..." or control characters such as tabs and line breaks (Dagster refuses those)'),
    })
    .strict(),
]);

export const pipelineSpecSchema = z
  .object({
    name: z.string().min(1).max(200).describe('Pipeline name, unique in your org'),
    description: z.string().max(4000).optional(),
    blocks: z.array(blockInstanceSchema).min(1).max(2000),
    edges: z.array(edgeSchema).max(10_000).default([]),
    jobs: z.array(jobSchema).max(200).default([]),
    schedules: z.array(scheduleSchema).max(200).default([]),
    sensors: z.array(sensorSchema).max(200).default([]),
    partitions: partitionsSchema.optional(),
    retry_policy: retryPolicySchema.optional().describe('Default for every block'),
    environment: z.string().regex(/^[a-z][a-z0-9_-]*$/).optional().describe('Default deployment target, e.g. "staging"'),
  })
  .strict();

export type PipelineSpec = z.infer<typeof pipelineSpecSchema>;
export type BlockInstance = z.infer<typeof blockInstanceSchema>;
export type Edge = z.infer<typeof edgeSchema>;
export type RetryPolicy = z.infer<typeof retryPolicySchema>;
