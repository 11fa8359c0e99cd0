import { answerMentions, blocks, edges, schedule, triggers, validates } from '../graders.ts';
import type { Scenario } from '../scenario.ts';
import { githubIssuesWithDlt, proposeStack } from './stack.ts';

const DLT = 'dlt_ingestion@1';
const DBT_RUN = 'dbt_run@1';
const DBT_TEST = 'dbt_test@1';
const GE = 'great_expectations_validation@1';
const DATAHUB = 'datahub_metadata_ingestion@1';
const RELEASES = 'github_release_sensor@1';
const DUCKDB = '/data/github.duckdb';
const DBT_PROJECT = '/srv/dbt/github';
const ALL = ['ingest_issues', 'transform', 'test_models', 'check_issues', 'publish_lineage'];

/** Seed 004's stack by chat, in one message: dlt → dbt run → dbt test and GE → DataHub, on a cron and a release. */
export const githubStack: Scenario = {
  name: 'github-stack',
  messages: [
    `Load the issues of the GitHub repository dlt-hub/dlt from the GitHub API with dlt into the DuckDB file ${DUCKDB}, ` +
      `run my dbt models (the project is in ${DBT_PROJECT}) after it, test them, check the issues model with Great Expectations ` +
      '(id never null and unique), and publish lineage to DataHub at http://datahub-gms:8080. ' +
      'Run it daily at 2am UTC and whenever a release of dlt-hub/dlt is published. Do not deploy it yet.',
  ],
  policy: proposeStack({
    searches: [{ query: 'dlt rest api ingestion dbt models' }, { query: 'dbt test great expectations datahub lineage' }, { query: 'github release', category: 'trigger' }],
    blocks: [
      githubIssuesWithDlt(DUCKDB, { write_disposition: 'merge', primary_key: ['id'] }),
      { id: 'transform', slug: 'dbt_run', config: { project_dir: DBT_PROJECT, command: 'run' } },
      { id: 'test_models', slug: 'dbt_test', config: { project_dir: DBT_PROJECT } },
      {
        id: 'check_issues',
        slug: 'great_expectations_validation',
        config: { expectations: [{ type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }, { type: 'expect_column_values_to_be_unique', kwargs: { column: 'id' } }] },
        ifListed: { table: 'issues', duckdb_path: DUCKDB },
      },
      { id: 'publish_lineage', slug: 'datahub_metadata_ingestion', config: { gms_url: 'http://datahub-gms:8080', platform: 'duckdb' } },
    ],
    flows: [
      ['ingest_issues', 'transform'],
      ['transform', 'test_models'],
      ['transform', 'check_issues'],
      ['transform', 'publish_lineage'],
    ],
    jobs: [{ id: 'github_stack', blocks: ALL, description: 'Load, transform, test, check and publish lineage.' }],
    schedules: [{ id: 'daily_2am', cron: '0 2 * * *', job: 'github_stack' }],
    sensors: [{ id: 'on_dlt_release', slug: 'github_release_sensor', config: { repository: 'dlt-hub/dlt' }, job: 'github_stack' }],
    name: 'GitHub issues stack',
    description: 'GitHub issues of dlt-hub/dlt via dlt into DuckDB, dbt models, dbt tests, Great Expectations and DataHub lineage.',
    summary: `dlt loads the dlt-hub/dlt issues into ${DUCKDB}, then dbt runs and tests your models, Great Expectations checks issues and DataHub gets the lineage; it runs daily at 2am UTC and on each new dlt-hub/dlt release`,
  }),
  graders: [
    blocks(DLT, DBT_RUN, DBT_TEST, GE, DATAHUB),
    edges([DLT, DBT_RUN], [DBT_RUN, DBT_TEST], [DBT_RUN, GE]),
    schedule('0 2 * * *'),
    triggers('sensor', RELEASES, [DLT, DBT_RUN], { namesJob: true }),
    validates(),
    answerMentions(/release/i, 'the release trigger'),
  ],
};
