import { fileURLToPath } from 'node:url';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';

/** The small dbt project the block library's tests ship (an issue tracker: staging views, one mart). */
export const DBT_FIXTURE_PROJECT = fileURLToPath(new URL('../../blocks/python/tests/fixtures/dbt_project', import.meta.url));

/** Where the seed 004 pipeline finds what it touches: files, the dbt project and the servers it calls. */
export interface Seed004Places {
  /** The DuckDB file dlt loads into and dbt (its TRACKER_DUCKDB_PATH) and Great Expectations read. */
  warehouse: string;
  dbtProject: string;
  /** The tracker's JSON API (GET /issues, GET /users) that dlt loads. */
  trackerApi: string;
  airbyte: { host: string; port: number; connectionId: string };
  datahubGms: string;
  githubApi: string;
  /** The directories the file-arrival and data-quality-alert sensors watch. */
  inbox: string;
  alerts: string;
}

/** Fixed places for compile snapshots: compile is pure and never looks at them. */
export const SNAPSHOT_PLACES: Seed004Places = {
  warehouse: '/srv/tracker/warehouse.duckdb',
  dbtProject: '/srv/tracker/dbt_project',
  trackerApi: 'https://tracker.example.com/api/',
  airbyte: { host: 'airbyte-server', port: 8001, connectionId: '7d2c9a4e-5b1f-4c3a-9e8d-0f6b2a1c3d4e' },
  datahubGms: 'http://datahub-gms:8080',
  githubApi: 'https://api.github.com',
  inbox: '/srv/tracker/inbox',
  alerts: '/srv/tracker/alerts',
};

const ALL_BLOCKS = ['load_tracker', 'sync_payments', 'transform', 'test_models', 'check_issues', 'publish_lineage'];

/**
 * Seed 004's stack as one pipeline: the tracker's API loaded by dlt and a payments connection synced
 * by Airbyte → dbt models → dbt tests and a Great Expectations check → lineage published to DataHub;
 * daily at 02:00 UTC and every 6 hours; sensors on file arrival, GitHub releases and data quality;
 * the seed's six jobs. The Great Expectations check asks every issue to have a title and fails as a
 * warning (the run goes on, so DataHub still gets its lineage); the quality sensor answers a failed
 * check of either quality block at WARN or above with the emergency refresh, which skips checks.
 */
export function seed004Spec(places: Seed004Places = SNAPSHOT_PLACES, name = 'Issue tracker stack'): PipelineSpec {
  const dbt = { project_dir: places.dbtProject, profiles_dir: places.dbtProject, target: 'duckdb' };
  return {
    name,
    description: 'The issue tracker and payments into DuckDB, modelled with dbt, checked, and published to DataHub.',
    blocks: [
      {
        id: 'load_tracker',
        type: 'dlt_ingestion@1',
        name: 'Load the tracker API',
        config: {
          pipeline_name: 'tracker',
          source: 'rest_api',
          source_config: { client: { base_url: places.trackerApi }, resources: ['issues', 'users'] },
          destination: 'duckdb',
          duckdb_path: places.warehouse,
          dataset_name: 'tracker_raw',
          write_disposition: 'merge',
          primary_key: ['id'],
        },
        retry_policy: { max_retries: 2, delay_seconds: 30, backoff: 'exponential' },
      },
      {
        id: 'sync_payments',
        type: 'airbyte_sync@1',
        name: 'Sync payments with Airbyte',
        config: { connection_id: places.airbyte.connectionId, host: places.airbyte.host, port: places.airbyte.port, use_https: false, poll_interval_seconds: 1 },
      },
      { id: 'transform', type: 'dbt_run@1', name: 'Run the dbt models', config: { ...dbt, command: 'run' } },
      { id: 'test_models', type: 'dbt_test@1', name: 'Test the dbt models', config: dbt },
      {
        id: 'check_issues',
        type: 'great_expectations_validation@1',
        name: 'Every issue has a title',
        config: {
          table: 'stg_issues',
          schema: 'analytics',
          database: 'duckdb',
          duckdb_path: places.warehouse,
          suite_name: 'issues_quality',
          fail_pipeline_on_error: false,
          expectations: [
            { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'title' } },
            { type: 'expect_column_values_to_be_in_set', kwargs: { column: 'state', value_set: ['open', 'closed'] } },
          ],
        },
      },
      { id: 'publish_lineage', type: 'datahub_metadata_ingestion@1', name: 'Publish lineage to DataHub', config: { gms_url: places.datahubGms, platform: 'duckdb', env: 'PROD', include_lineage: true } },
    ],
    edges: [
      { from: { block: 'load_tracker', port: 'tables' }, to: { block: 'transform', port: 'sources' } },
      { from: { block: 'sync_payments', port: 'tables' }, to: { block: 'transform', port: 'sources' } },
      { from: { block: 'transform', port: 'models' }, to: { block: 'test_models', port: 'models' } },
      { from: { block: 'transform', port: 'models' }, to: { block: 'check_issues', port: 'tables' } },
      { from: { block: 'load_tracker', port: 'tables' }, to: { block: 'publish_lineage', port: 'datasets' } },
      { from: { block: 'sync_payments', port: 'tables' }, to: { block: 'publish_lineage', port: 'datasets' } },
      { from: { block: 'transform', port: 'models' }, to: { block: 'publish_lineage', port: 'datasets' } },
    ],
    jobs: [
      { id: 'daily_full_pipeline', description: 'Everything, every day.', blocks: ALL_BLOCKS },
      { id: 'incremental_sync', description: 'New tracker and payment data only.', blocks: ['load_tracker', 'sync_payments'] },
      { id: 'transformation_only', blocks: ['transform', 'test_models'] },
      { id: 'data_quality_only', blocks: ['test_models', 'check_issues'] },
      { id: 'release_triggered', description: 'A new release of the app: rebuild everything.', blocks: ALL_BLOCKS },
      { id: 'emergency_data_refresh', description: 'Reload and remodel, skipping every check.', blocks: ['load_tracker', 'transform'], checks: false },
    ],
    schedules: [
      { id: 'daily_at_2am', cron: '0 2 * * *', timezone: 'UTC', job: 'daily_full_pipeline' },
      { id: 'every_6_hours', cron: '0 */6 * * *', timezone: 'UTC', job: 'incremental_sync' },
    ],
    sensors: [
      { id: 'new_exports', type: 'file_arrival_sensor@1', job: 'incremental_sync', config: { local_directory: places.inbox, pattern: '*.csv', minimum_interval_seconds: 30 } },
      { id: 'new_release', type: 'github_release_sensor@1', job: 'release_triggered', config: { repository: 'acme/tracker', api_url: places.githubApi, minimum_interval_seconds: 60 } },
      {
        id: 'quality_alert',
        type: 'data_quality_alert_sensor@1',
        job: 'emergency_data_refresh',
        config: { monitored_checks: ['check_issues', 'test_models'], alert_directory: places.alerts, severity: 'WARN', minimum_interval_seconds: 5 },
      },
    ],
  };
}
