/**
 * How each block type the Python library implements appears in generated code: the module and
 * function to call, and the resource (if any) it needs with the config field naming its secret.
 * The catalog is wider than the library; compile refuses a type that is not here, by name.
 */
/** The block library's modules definitions.py imports; their names are taken at module level. */
export const LIBRARY_MODULES = ['postgres', 'clickhouse', 'duckdb'] as const;

export interface BlockRecipe {
  module: (typeof LIBRARY_MODULES)[number];
  func: string;
  resource?: { className: string; keySuffix: string; secretField: string };
  /** Pinned packages the block's code imports, beyond dagster and the block library. */
  requirements: string[];
}

const RECIPES: Record<string, BlockRecipe> = {
  'postgres_incremental_extract@1': {
    module: 'postgres',
    func: 'incremental_extract',
    resource: { className: 'PostgresResource', keySuffix: 'postgres', secretField: 'connection_secret' },
    requirements: ['psycopg[binary]==3.3.9'],
  },
  'clickhouse_replacing_merge_tree_load@1': {
    module: 'clickhouse',
    func: 'load_replacing_merge_tree',
    resource: { className: 'ClickHouseResource', keySuffix: 'clickhouse', secretField: 'connection_secret' },
    requirements: ['clickhouse-driver==0.2.11'],
  },
  'duckdb_load@1': { module: 'duckdb', func: 'load_table', requirements: ['duckdb==2.0.0'] },
};

export const recipeFor = (ref: string): BlockRecipe | undefined => RECIPES[ref];

/** What every compiled location needs; one Dagster version across the project (see DAGSTER.md). */
export const BASE_REQUIREMENTS = ['dagster==1.13.27', 'constellation-blocks==0.1.0'];
