import { answerMentions, blocks, edges, triggers, validates } from '../graders.ts';
import type { Scenario } from '../scenario.ts';
import { githubIssuesWithDlt, proposeStack } from './stack.ts';

const AIRBYTE = 'airbyte_sync@1';
const DLT = 'dlt_ingestion@1';
const DBT_RUN = 'dbt_run@1';
const DBT_TEST = 'dbt_test@1';
const GE = 'great_expectations_validation@1';
const DATAHUB = 'datahub_metadata_ingestion@1';
const FILES = 'file_arrival_sensor@1';
const ALERTS = 'data_quality_alert_sensor@1';
const DUCKDB = '/data/freelancer.duckdb';
const DBT_PROJECT = '/srv/dbt/freelancer';
const CONNECTION = '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

/**
 * Seed 004 whole by chat: two sources, dbt, two kinds of checks and DataHub, with several jobs
 * and the schedules and sensors that target them.
 */
export const seedStack: Scenario = {
  name: 'seed-stack',
  messages: [
    `Build my freelancer data stack. Sync the Airbyte connection ${CONNECTION} and load the issues of the GitHub repository dlt-hub/dlt with dlt into ${DUCKDB}; ` +
      `then run my dbt project at ${DBT_PROJECT}, test it, validate the invoices model with Great Expectations (amount at least 0), and publish lineage to DataHub at http://datahub-gms:8080. ` +
      'I want a full run daily at 2am UTC, an incremental sync of just the two sources every 6 hours, a transformation-only run (dbt run and test) whenever a file lands in /data/incoming, ' +
      'and when the Great Expectations check fails, a data quality run that rebuilds the models and checks them again. Do not deploy yet.',
  ],
  policy: proposeStack({
    searches: [{ query: 'airbyte sync dlt ingestion dbt models' }, { query: 'dbt test great expectations datahub lineage' }, { query: 'file arrival data quality alert', category: 'trigger' }],
    blocks: [
      { id: 'sync_airbyte', slug: 'airbyte_sync', config: { connection_id: CONNECTION } },
      githubIssuesWithDlt(DUCKDB),
      { id: 'transform', slug: 'dbt_run', config: { project_dir: DBT_PROJECT, command: 'run' } },
      { id: 'test_models', slug: 'dbt_test', config: { project_dir: DBT_PROJECT } },
      {
        id: 'check_invoices',
        slug: 'great_expectations_validation',
        config: { expectations: [{ type: 'expect_column_values_to_be_between', kwargs: { column: 'amount', min_value: 0 } }] },
        ifListed: { table: 'invoices', duckdb_path: DUCKDB },
      },
      { id: 'publish_lineage', slug: 'datahub_metadata_ingestion', config: { gms_url: 'http://datahub-gms:8080', platform: 'duckdb' } },
    ],
    flows: [
      ['sync_airbyte', 'transform'],
      ['ingest_issues', 'transform'],
      ['transform', 'test_models'],
      ['transform', 'check_invoices'],
      ['transform', 'publish_lineage'],
    ],
    jobs: [
      { id: 'daily_full', blocks: ['sync_airbyte', 'ingest_issues', 'transform', 'test_models', 'check_invoices', 'publish_lineage'] },
      { id: 'incremental_sync', blocks: ['sync_airbyte', 'ingest_issues'] },
      { id: 'transformation', blocks: ['transform', 'test_models'] },
      { id: 'data_quality', blocks: ['transform', 'test_models', 'check_invoices'] },
    ],
    schedules: [
      { id: 'daily_2am', cron: '0 2 * * *', job: 'daily_full' },
      { id: 'every_6_hours', cron: '0 */6 * * *', job: 'incremental_sync' },
    ],
    sensors: [
      { id: 'on_new_file', slug: 'file_arrival_sensor', config: { local_directory: '/data/incoming' }, job: 'transformation' },
      { id: 'on_quality_alert', slug: 'data_quality_alert_sensor', config: { monitored_checks: ['check_invoices'] }, job: 'data_quality' },
    ],
    name: 'Freelancer data stack',
    description: 'Airbyte and dlt into DuckDB, dbt models tested by dbt and Great Expectations, lineage in DataHub; four jobs on schedules and sensors.',
    summary:
      'Airbyte and dlt load into DuckDB, dbt runs and tests your models, Great Expectations checks invoices and DataHub gets the lineage; ' +
      'jobs: daily_full at 2am UTC, incremental_sync every 6 hours, transformation when a file lands in /data/incoming, data_quality when the check fails',
  }),
  graders: [
    blocks(AIRBYTE, DLT, DBT_RUN, DBT_TEST, GE, DATAHUB),
    edges([AIRBYTE, DBT_RUN], [DLT, DBT_RUN], [DBT_RUN, DBT_TEST], [DBT_RUN, GE], [DBT_RUN, DATAHUB]),
    triggers('schedule', '0 2 * * *', [AIRBYTE, DLT, DBT_RUN, DBT_TEST, GE, DATAHUB]),
    triggers('schedule', '0 */6 * * *', [AIRBYTE, DLT], { namesJob: true, exactly: true }),
    triggers('sensor', FILES, [DBT_RUN, DBT_TEST], { namesJob: true, exactly: true }),
    triggers('sensor', ALERTS, [DBT_RUN, GE], { namesJob: true }),
    validates(),
    answerMentions(/job/i, 'the jobs'),
  ],
};
