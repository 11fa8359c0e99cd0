import { answerMentions, blocks, compiles, deployed, schedule } from '../graders.ts';
import type { Scenario } from '../scenario.ts';
import { FLAGSHIP_PLAN } from './flagship.ts';
import { buildAndDeploy } from './build.ts';

/** A daily schedule at a given hour. */
export const daily: Scenario = {
  name: 'daily',
  messages: ['Every day at 02:00 UTC, copy new and changed customers from Postgres into ClickHouse.'],
  policy: buildAndDeploy({
    ...FLAGSHIP_PLAN,
    name: 'Customers to ClickHouse, nightly',
    description: 'New and changed customers from Postgres into ClickHouse, daily at 02:00 UTC.',
    schedule: { id: 'daily_at_2', cron: '0 2 * * *' },
    summary: 'new and changed customers from Postgres into ClickHouse every day at 02:00 UTC',
  }),
  graders: [
    compiles(),
    blocks('postgres_incremental_extract@1', 'clickhouse_replacing_merge_tree_load@1'),
    schedule('0 2 * * *'),
    deployed(),
    answerMentions(/02:00|2:00|2 ?am|0 2 \* \* \*/i, 'the time it runs'),
  ],
};
