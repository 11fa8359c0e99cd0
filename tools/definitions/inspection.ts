import { z } from 'zod';
import { inspectionView, MAX_SAMPLE_ROWS } from '../../src/dagster/source-inspection.ts';
import type { ToolDefinition } from '../tool.ts';
import { environment } from './shared.ts';

/** The request every surface sends (the REST route's body is this without the environment, which is in its path). */
export const inspectRequest = z.object({
  block_type: z.string().min(1).describe('The source block type, e.g. "postgres_incremental_extract" or "duckdb_table_read" (slug or slug@version)'),
  config: z.record(z.string(), z.unknown()).describe('The source block\'s config as in a pipeline, secret names only, e.g. {"table": "public.customers", "connection_secret": "SOURCE_DB_URL"}'),
  table: z.string().min(1).optional().describe('A table to describe instead of the config\'s, e.g. "public.orders"'),
  sample_rows: z.number().int().min(0).max(MAX_SAMPLE_ROWS).optional().describe(`Sample rows to read (default 5, at most ${MAX_SAMPLE_ROWS})`),
});

export const inspectSource = {
  name: 'inspect_source',
  title: 'Inspect a source',
  description:
    "Looks at a source block's database from inside an environment (a small job runs in its Dagster, with the credentials the pipeline would use; the secret never leaves it): tests the connection, lists the tables, and for the config's table (or `table`) gives each column's name and logical type and a few sample rows. Call it before proposing a pipeline or column names for a source, and use the columns it returns. An ok: false answer says why the connection or table failed.",
  // It launches a run in the environment's Dagster: off where runs are off.
  group: 'runs',
  input: inspectRequest.extend({ environment: environment.describe('Where to inspect from: the environment the pipeline will run in, e.g. "development"') }),
  output: inspectionView,
  // It reads the source and launches a read-only run; it changes nothing.
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  needsApproval: false,
  // Table names and sample values are the source's data, not ours.
  untrustedOutput: true,
} satisfies ToolDefinition;
