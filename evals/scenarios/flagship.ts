import { answerMentions, blockConfig, blocks, compiles, deployed, schedule } from '../graders.ts';
import type { Scenario } from '../scenario.ts';
import { buildAndDeploy, type BuildPlan } from './build.ts';

const EXTRACT = 'postgres_incremental_extract@1';
const CLICKHOUSE = 'clickhouse_replacing_merge_tree_load@1';

export const FLAGSHIP_PLAN: BuildPlan = {
  search: 'incremental postgres extract clickhouse upsert',
  source: 'postgres_incremental_extract',
  sink: 'clickhouse_replacing_merge_tree_load',
  sourceConfig: { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' },
  sinkConfig: { table: 'customers', order_by: ['id'], connection_secret: 'WAREHOUSE_URL' },
  name: 'Customers to ClickHouse',
  description: 'New and changed customers from Postgres into ClickHouse, every 6 hours.',
  ids: { source: 'extract_customers', sink: 'load_customers' },
  schedule: { id: 'every_6_hours', cron: '0 */6 * * *' },
  summary: 'new and changed customers from Postgres into ClickHouse every 6 hours',
};

/** Seed 003 by chat: the flagship request. */
export const flagship: Scenario = {
  name: 'flagship',
  messages: ['every 6 hours copy new and changed customers from Postgres into ClickHouse'],
  policy: buildAndDeploy(FLAGSHIP_PLAN),
  graders: [
    compiles(),
    blocks(EXTRACT, CLICKHOUSE),
    blockConfig(EXTRACT, 'source table customers', (c) => /^(public\.)?customers$/.test(String(c.table))),
    blockConfig(CLICKHOUSE, 'target table customers keyed on id', (c) => c.table === 'customers' && JSON.stringify(c.order_by) === '["id"]'),
    schedule('0 */6 * * *'),
    deployed(),
    answerMentions(/deploy|written/i, 'the deployment'),
  ],
};
