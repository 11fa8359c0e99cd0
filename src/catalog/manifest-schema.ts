import { z } from 'zod';
import { ID_PATTERN } from '../pipelines/ids.ts';

/**
 * The shape of one block type manifest under `blocks/manifests/`. Manifests are the catalog's
 * source of truth; this schema is checked at load, so a bad manifest stops start-up with the file
 * and the field named.
 */
export const CATEGORIES = ['source', 'transform', 'sink', 'quality', 'catalog', 'ml', 'trigger'] as const;
// `table`: rows handed from one block to the next by Dagster (its IO manager). `tables`: tables a
// block wrote into a database (dlt, Airbyte, dbt), which the next block reads there itself; Dagster
// only orders the two. A block that makes several assets cannot hand rows on, so the two differ.
export const PORT_TYPES = ['table', 'tables', 'files', 'model', 'metrics'] as const;

export const categorySchema = z.enum(CATEGORIES);
export const portTypeSchema = z.enum(PORT_TYPES);

const identifier = z
  .string()
  .regex(ID_PATTERN, 'use lower snake_case starting with a letter, e.g. "customer_rows"');

/**
 * The logical column types a contract may name: few enough that a Parquet file's Arrow types map
 * onto them unambiguously, so both validation and the run can compare them.
 */
export const COLUMN_TYPES = ['string', 'integer', 'float', 'boolean', 'timestamp', 'date', 'json'] as const;

export const columnContractSchema = z
  .object({
    name: z.string().min(1).describe('Column name as it appears in the table, e.g. "id"'),
    type: z.enum(COLUMN_TYPES).optional().describe('Logical type; omitted means any type'),
  })
  .strict();

export const portSchema = z
  .object({
    name: identifier.describe('Port name, unique among the block type\'s inputs or outputs'),
    type: portTypeSchema.describe('What flows through the port'),
    description: z.string().min(1),
    /** Inputs only: an input that must be connected before the pipeline is valid. */
    required: z.boolean().default(true),
    /** Inputs only: accepts more than one incoming edge. */
    multiple: z.boolean().default(false),
    /** Table ports: columns the output guarantees, or the input needs. */
    columns: z.array(columnContractSchema).optional(),
    /**
     * Table ports: config fields (a column name or a list of them) naming columns. On an input, the
     * columns it needs (e.g. ["order_by"]); on an output, the columns it carries when one is set
     * (a source's column selection; unset, its columns are unknown).
     */
    column_fields: z.array(z.string().min(1)).min(1).optional(),
    /** Inputs only: the block types (slugs) whose outputs may feed it, when its type alone says too little (dbt_test reads a dbt_run's models). */
    from_blocks: z.array(identifier).min(1).optional(),
  })
  .strict();

/** A config value a secret depends on: `field` (a dotted path into the config) is one of `in`, or is `present`. */
export const secretConditionSchema = z
  .object({
    field: z.string().min(1),
    in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional(),
    present: z.literal(true).optional(),
  })
  .strict()
  .refine((c) => (c.in === undefined) !== (c.present === undefined), 'give exactly one of "in" and "present"');

export const secretRefSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/, 'secret names are UPPER_SNAKE_CASE environment variable names')
      .describe('Default environment variable that holds the secret'),
    description: z.string().min(1),
    /** When set, the block config field that may name a different variable. */
    config_field: z.string().optional(),
    needed_when: z
      .array(secretConditionSchema)
      .min(1)
      .optional()
      .describe('The secret is needed only when one of these holds of the config (defaults filled in); always when absent'),
  })
  .strict();

/** What a block instance of this type becomes in generated Dagster code. */
export const compilesToSchema = z.enum(['asset', 'asset_check', 'dbt_assets', 'schedule', 'sensor']);

/**
 * A config field whose value names other blocks of the same pipeline carries this marker in its
 * JSON Schema (on the string itself, or on an array's items), saying which categories of block
 * it may name: `"x-block-ref": {"categories": ["quality"]}`. Validation then checks each value
 * names a block of the pipeline, of one of those categories.
 */
export const BLOCK_REF = 'x-block-ref';
export const blockRefMarkerSchema = z.object({ categories: z.array(categorySchema).min(1) }).strict();

export const jsonSchemaObject = z
  .object({ type: z.literal('object'), properties: z.record(z.string(), z.unknown()) })
  .passthrough()
  .superRefine((schema, ctx) => {
    for (const { path, marker, host } of markersIn(schema, [])) {
      const parsed = blockRefMarkerSchema.safeParse(marker);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: [...path, BLOCK_REF, ...issue.path], message: `${BLOCK_REF}: ${issue.message}` });
      }
      if (host.type !== 'string') ctx.addIssue({ code: 'custom', path: [...path, BLOCK_REF], message: `${BLOCK_REF} belongs on a string schema (a block id), not on type ${JSON.stringify(host.type)}` });
    }
  });

/** Every block-reference marker in a JSON Schema, with the path of the schema that carries it. */
function markersIn(node: unknown, path: PropertyKey[]): Array<{ path: PropertyKey[]; marker: unknown; host: Record<string, unknown> }> {
  if (!node || typeof node !== 'object') return [];
  const found = Array.isArray(node) ? [] : BLOCK_REF in node ? [{ path, marker: (node as Record<string, unknown>)[BLOCK_REF], host: node as Record<string, unknown> }] : [];
  return [...found, ...Object.entries(node).flatMap(([key, child]) => (key === BLOCK_REF ? [] : markersIn(child, [...path, Array.isArray(node) ? Number(key) : key])))];
}

/**
 * The library's own modules, or a registered repository commit's package
 * (`constellation_repo_<namespace>_<commit12>`): the only two places a step function is imported from.
 */
export const REPO_PACKAGE = /^constellation_repo_[a-z][a-z0-9_]*_[0-9a-f]{12}$/;
const PYTHON_CALLABLE = /^(constellation_blocks|constellation_repo_[a-z][a-z0-9_]*_[0-9a-f]{12})(\.[a-z_][a-z0-9_]*)+:[a-z_][a-z0-9_]*$/;

/** Where a repository block type came from, and what its code needs (docs/code-repositories.md). */
export const repoOriginSchema = z
  .object({
    repo_url: z.string().min(1),
    branch: z.string().min(1),
    commit: z.string().regex(/^[0-9a-f]{40}$/),
    /** The commit's package import name, e.g. constellation_repo_etl_blocks_3f2a9c1d0e4b. */
    package: z.string().regex(REPO_PACKAGE),
    /** requirements.txt lines of the repository, checked against the environment at compile. */
    requirements: z.array(z.string().min(1)).default([]),
    compile_id: z.string().uuid(),
  })
  .strict();

export const manifestSchema = z
  .object({
    slug: identifier,
    version: z.number().int().min(1),
    name: z.string().min(1),
    description: z.string().min(20, 'describe the block in at least a sentence; models read this'),
    category: categorySchema,
    tags: z.array(z.string().min(1)).default([]),
    inputs: z.array(portSchema).default([]),
    outputs: z.array(portSchema).default([]),
    config_schema: jsonSchemaObject,
    secrets: z.array(secretRefSchema).default([]),
    python: z
      .object({
        callable: z
          .string()
          .regex(PYTHON_CALLABLE, 'use "constellation_blocks.module:function"'),
      })
      .strict(),
    compiles_to: compilesToSchema,
    /** Set on block types registered from a code repository (docs/code-repositories.md); absent on built-ins. */
    origin: repoOriginSchema.optional(),
  })
  .strict();

export type BlockTypeManifest = z.infer<typeof manifestSchema>;
export type Port = z.infer<typeof portSchema>;
export type RepoOrigin = z.infer<typeof repoOriginSchema>;
export type ColumnContract = z.infer<typeof columnContractSchema>;
export type ColumnType = (typeof COLUMN_TYPES)[number];
export type Category = z.infer<typeof categorySchema>;
export type PortType = z.infer<typeof portTypeSchema>;
