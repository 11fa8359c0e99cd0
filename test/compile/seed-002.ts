import { fileURLToPath } from 'node:url';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';

/** The dbt project over the lake the block library's tests ship: Iceberg sources (dbt-duckdb's iceberg plugin), one model. */
export const DBT_LAKE_PROJECT = fileURLToPath(new URL('../../blocks/python/tests/fixtures/dbt_lake', import.meta.url));

/** Where the seed 002 pipeline finds the lake: the S3-compatible store, the Iceberg catalog, dbt's project and DuckDB file. */
export interface Seed002Places {
  s3Endpoint: string;
  /** The bucket events land in (events/dt=YYYY-MM-DD/*.csv). */
  landingBucket: string;
  /** The Iceberg SQL catalog (sqlite:////abs/path.db) and its warehouse (s3://bucket/prefix). */
  catalogUri: string;
  warehouse: string;
  dbtProject: string;
  /** The DuckDB file dbt builds its models in (the project's LAKE_DUCKDB_PATH). */
  dbtDuckdb: string;
}

export const SNAPSHOT_PLACES: Seed002Places = {
  s3Endpoint: 'http://garage:3900',
  landingBucket: 'landing',
  catalogUri: 'sqlite:////srv/lake/catalog.db',
  warehouse: 's3://lake/warehouse',
  dbtProject: '/srv/lake/dbt_lake',
  dbtDuckdb: '/srv/lake/silver.duckdb',
};

/**
 * Seed 002's lake as one pipeline on daily partitions: the day's CSV files in S3 → a table →
 * the raw Iceberg table (its day replaced, so a re-run changes nothing) → dbt over the lake (the
 * Iceberg table read through dbt-duckdb's iceberg plugin) → the purchases model read back → user
 * features as of the day's end → a feature table in Iceberg for ML.
 */
export function seed002Spec(places: Seed002Places = SNAPSHOT_PLACES, name = 'Event lake'): PipelineSpec {
  const s3 = { s3_endpoint_url: places.s3Endpoint, region: 'us-east-1' };
  const catalog = { catalog_uri: places.catalogUri, warehouse: places.warehouse, ...s3 };
  const dbt = { project_dir: places.dbtProject, profiles_dir: places.dbtProject, target: 'duckdb' };
  return {
    name,
    description: 'Daily event files from S3 into Iceberg, modelled with dbt, and user features for ML.',
    blocks: [
      {
        id: 'landing',
        type: 's3_files@1',
        name: "The day's event files",
        config: { bucket: places.landingBucket, prefix: 'events/dt={partition}/', pattern: '*.csv', endpoint_url: places.s3Endpoint, region: 'us-east-1' },
      },
      {
        id: 'parse_events',
        type: 'files_to_table@1',
        name: 'Parse the event files',
        config: {
          format: 'csv',
          columns: { event_id: 'integer', user_id: 'integer', kind: 'string', amount: 'float', event_time: 'timestamp', event_date: 'date' },
        },
      },
      {
        id: 'raw_events',
        type: 'iceberg_table_write@1',
        name: 'Raw events in Iceberg',
        config: { ...catalog, namespace: 'raw', table: 'events', mode: 'overwrite', partition_column: 'event_date' },
      },
      { id: 'transform', type: 'dbt_run@1', name: 'dbt over the lake', config: { ...dbt, command: 'build' } },
      {
        id: 'read_purchases',
        type: 'duckdb_table_read@1',
        name: 'Purchases modelled by dbt',
        config: { database_path: places.dbtDuckdb, table: 'silver.purchases' },
      },
      {
        id: 'user_features',
        type: 'feature_engineering@1',
        name: 'User features',
        config: {
          entity_key: ['user_id'],
          timestamp_column: 'event_time',
          features: [
            { name: 'purchases_7d', aggregation: 'count', window: '7d' },
            { name: 'spend_7d', aggregation: 'sum', column: 'amount', window: '7d' },
            { name: 'last_amount', aggregation: 'last', column: 'amount' },
          ],
          output_table: 'user_features',
        },
      },
      {
        id: 'feature_table',
        type: 'iceberg_table_write@1',
        name: 'Feature table in Iceberg',
        config: { ...catalog, namespace: 'ml', table: 'user_features', mode: 'overwrite' },
      },
    ],
    edges: [
      { from: { block: 'landing', port: 'files' }, to: { block: 'parse_events', port: 'files' } },
      { from: { block: 'parse_events', port: 'table' }, to: { block: 'raw_events', port: 'rows' } },
      { from: { block: 'raw_events', port: 'table' }, to: { block: 'transform', port: 'sources' } },
      { from: { block: 'transform', port: 'models' }, to: { block: 'read_purchases', port: 'after' } },
      { from: { block: 'read_purchases', port: 'rows' }, to: { block: 'user_features', port: 'rows' } },
      { from: { block: 'user_features', port: 'features' }, to: { block: 'feature_table', port: 'rows' } },
    ],
    jobs: [],
    schedules: [{ id: 'daily', cron: '0 3 * * *', timezone: 'UTC' }],
    sensors: [],
    partitions: { type: 'daily', start_date: '2024-01-01', timezone: 'UTC' },
  };
}
