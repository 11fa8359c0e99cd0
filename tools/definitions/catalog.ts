import { z } from 'zod';
import { CATEGORIES, PORT_TYPES } from '../../src/catalog/manifest-schema.ts';
import { READ_ONLY, type ToolDefinition } from '../tool.ts';
import { blockTypeSummary } from './shared.ts';

export const searchBlockTypes = {
  name: 'search_block_types',
  title: 'Search block types',
  description:
    'Find building blocks for a pipeline in the catalog (sources such as Postgres, dlt and Airbyte; transforms such as dbt; sinks; quality checks such as dbt tests and Great Expectations; catalogs such as DataHub; triggers: cron, file arrival, GitHub release and data-quality alert sensors). Ranked by how well name, tags, category and description match. Use before proposing a pipeline: a block\'s "ref" is what its "type" must be.',
  group: 'catalog',
  input: z.object({
    query: z.string().max(200).optional().describe('Words describing what the block should do, e.g. "incremental postgres extract" or "clickhouse upsert"'),
    category: z.enum(CATEGORIES).optional().describe('Only this category'),
    input_type: z.enum(PORT_TYPES).optional().describe('Only blocks with an input port of this type ("table": rows handed on by Dagster; "tables": tables another block wrote into a database)'),
    output_type: z.enum(PORT_TYPES).optional().describe('Only blocks with an output port of this type'),
    limit: z.number().int().min(1).max(50).default(10).describe('How many results, best first'),
  }),
  output: z.object({
    results: z.array(z.object({ score: z.number(), block_type: blockTypeSummary })),
    hint: z.string().optional().describe('Set when nothing matched: what to try instead'),
  }),
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;

export const getBlockType = {
  name: 'get_block_type',
  title: 'Get a block type',
  description: 'The full definition of one block type: its config JSON Schema (fields, types, defaults, examples), ports and the secrets it needs. Read it before writing a block\'s config.',
  group: 'catalog',
  input: z.object({ ref: z.string().min(1).describe('"slug@version", or a slug alone for the latest version, e.g. "postgres_incremental_extract"') }),
  output: z.object({ block_type: z.object({ ref: z.string(), config_schema: z.record(z.string(), z.unknown()) }).passthrough() }),
  annotations: READ_ONLY,
  needsApproval: false,
  untrustedOutput: true,
} satisfies ToolDefinition;
