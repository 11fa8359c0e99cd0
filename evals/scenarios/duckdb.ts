import { answerMentions, blockConfig, blocks, compiles, deployed, schedule } from '../graders.ts';
import type { Scenario } from '../scenario.ts';
import { buildAndDeploy } from './build.ts';

const EXTRACT = 'postgres_incremental_extract@1';
const DUCKDB = 'duckdb_load@1';
const PATH = '/tmp/constellation-evals/warehouse.duckdb';

/** DuckDB as the destination, merging on the key. */
export const duckdb: Scenario = {
  name: 'duckdb',
  messages: [`Every 6 hours, merge new and changed customers from Postgres into the table customers of the DuckDB file ${PATH}, keyed on id.`],
  policy: buildAndDeploy({
    search: 'incremental postgres extract duckdb merge',
    source: 'postgres_incremental_extract',
    sink: 'duckdb_load',
    sourceConfig: { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' },
    sinkConfig: { database_path: PATH, table: 'customers', mode: 'merge', primary_key: ['id'] },
    name: 'Customers to DuckDB',
    description: 'New and changed customers from Postgres merged into DuckDB, every 6 hours.',
    ids: { source: 'extract_customers', sink: 'load_duckdb' },
    schedule: { id: 'every_6_hours', cron: '0 */6 * * *' },
    summary: `new and changed customers from Postgres merged on id into customers in ${PATH} every 6 hours`,
  }),
  graders: [
    compiles(),
    blocks(EXTRACT, DUCKDB),
    blockConfig(DUCKDB, `merge into customers of ${PATH} on id`, (c) => c.database_path === PATH && /^(main\.)?customers$/.test(String(c.table)) && c.mode === 'merge' && JSON.stringify(c.primary_key) === '["id"]'),
    schedule('0 */6 * * *'),
    deployed(),
    answerMentions(/duckdb/i, 'DuckDB'),
  ],
};
