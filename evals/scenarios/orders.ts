import { answerMentions, blockConfig, blocks, compiles, deployed, schedule } from '../graders.ts';
import type { Scenario } from '../scenario.ts';
import { buildAndDeploy } from './build.ts';

const EXTRACT = 'postgres_incremental_extract@1';
const CLICKHOUSE = 'clickhouse_replacing_merge_tree_load@1';

/** Another table, another cadence. */
export const orders: Scenario = {
  name: 'orders',
  messages: ['Every hour, sync new and updated rows of the orders table in Postgres into a ClickHouse table called orders, keyed on id.'],
  policy: buildAndDeploy({
    search: 'incremental postgres extract clickhouse upsert',
    source: 'postgres_incremental_extract',
    sink: 'clickhouse_replacing_merge_tree_load',
    sourceConfig: { table: 'public.orders', connection_secret: 'SOURCE_DB_URL' },
    sinkConfig: { table: 'orders', order_by: ['id'], connection_secret: 'WAREHOUSE_URL' },
    name: 'Orders to ClickHouse',
    description: 'New and changed orders from Postgres into ClickHouse, hourly.',
    ids: { source: 'extract_orders', sink: 'load_orders' },
    schedule: { id: 'hourly', cron: '0 * * * *' },
    summary: 'new and changed orders from Postgres into the ClickHouse table orders every hour',
  }),
  graders: [
    compiles(),
    blocks(EXTRACT, CLICKHOUSE),
    blockConfig(EXTRACT, 'source table orders', (c) => /^(public\.)?orders$/.test(String(c.table))),
    blockConfig(CLICKHOUSE, 'target table orders keyed on id', (c) => c.table === 'orders' && JSON.stringify(c.order_by) === '["id"]'),
    schedule('0 * * * *'),
    deployed(),
    answerMentions(/orders/i, 'orders'),
  ],
};
