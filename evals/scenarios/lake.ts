import { SNAPSHOT_PLACES, seed002Spec } from '../../test/compile/seed-002.ts';
import { answerMentions, blockConfig, blocks, edges, partitions, validates } from '../graders.ts';
import type { Scenario } from '../scenario.ts';
import { proposeStack, type StackPlan } from './stack.ts';

const S3_FILES = 's3_files@1';
const FILES_TO_TABLE = 'files_to_table@1';
const ICEBERG_WRITE = 'iceberg_table_write@1';
const DBT_RUN = 'dbt_run@1';
const DUCKDB_READ = 'duckdb_table_read@1';
const FEATURES = 'feature_engineering@1';
const PLACES = { ...SNAPSHOT_PLACES, dbtProject: '/srv/dbt/lake' };

/** Seed 002's pipeline, with the dbt project where this user keeps it: what a good model proposes. */
export const LAKE_SEED = seed002Spec(PLACES, 'Event lake');

/** Seed 002's blocks, configs, flows (their ports wired again from the catalog), schedule and partitions. */
export const LAKE_PLAN: StackPlan = {
  searches: [{ query: 's3 csv files to table iceberg write' }, { query: 'dbt run duckdb table read feature engineering' }],
  blocks: LAKE_SEED.blocks.map((b) => ({ id: b.id, slug: b.type.split('@')[0]!, config: b.config })),
  flows: LAKE_SEED.edges.map((e) => [e.from.block, e.to.block]),
  jobs: [],
  schedules: LAKE_SEED.schedules.map(({ id, cron }) => ({ id, cron })),
  sensors: [],
  partitions: LAKE_SEED.partitions,
  name: LAKE_SEED.name,
  description: LAKE_SEED.description!,
  summary:
    `each day's CSV files from s3://${PLACES.landingBucket}/events/dt=<day>/ go into the Iceberg table raw.events (a re-run replaces its day), ` +
    `dbt runs ${PLACES.dbtProject} over it, and per-user features from silver.purchases go into the Iceberg table ml.user_features; daily partitions from 2024-01-01, run every day at 03:00 UTC`,
};

/** The catalog the user named, with the warehouse a SQL catalog needs. */
const inUsersCatalog = (c: Record<string, unknown>) => c.catalog_uri === PLACES.catalogUri && c.warehouse === PLACES.warehouse;

/** Seed 002 by chat, proposed and not deployed: S3 → Iceberg on daily partitions → dbt → user features → Iceberg. */
export const lake: Scenario = {
  name: 'lake',
  messages: [
    `Every day, pick up the CSV event files that land in s3://${PLACES.landingBucket}/events/dt=<day>/ on our Garage store at ${PLACES.s3Endpoint}, ` +
      `keep them in an Iceberg table raw.events (SQLite catalog ${PLACES.catalogUri}, warehouse ${PLACES.warehouse}) partitioned by event_date so a re-run of a day replaces that day, ` +
      `run my dbt project at ${PLACES.dbtProject} over it, then compute per-user features (purchases and spend over 7 days, last amount) from its purchases model ` +
      `(in ${PLACES.dbtDuckdb}, table silver.purchases) and write them to the Iceberg table ml.user_features. Daily partitions from 2024-01-01. Do not deploy yet.`,
  ],
  policy: proposeStack(LAKE_PLAN),
  graders: [
    blocks(S3_FILES, FILES_TO_TABLE, ICEBERG_WRITE, DBT_RUN, DUCKDB_READ, FEATURES, ICEBERG_WRITE),
    edges([S3_FILES, FILES_TO_TABLE], [FILES_TO_TABLE, ICEBERG_WRITE], [ICEBERG_WRITE, DBT_RUN], [DBT_RUN, DUCKDB_READ], [DUCKDB_READ, FEATURES], [FEATURES, ICEBERG_WRITE]),
    blockConfig(ICEBERG_WRITE, `raw.events in ${PLACES.catalogUri} (warehouse ${PLACES.warehouse}), its day replaced by event_date`, (c) =>
      c.namespace === 'raw' && c.table === 'events' && c.partition_column === 'event_date' && inUsersCatalog(c),
    ),
    blockConfig(ICEBERG_WRITE, `ml.user_features in ${PLACES.catalogUri}`, (c) => c.namespace === 'ml' && c.table === 'user_features' && inUsersCatalog(c)),
    blockConfig(FEATURES, 'features per user_id over a 7-day window', (c) =>
      JSON.stringify(c.entity_key) === '["user_id"]' && Array.isArray(c.features) && c.features.some((f: { window?: unknown }) => ['7d', '1w', '168h'].includes(String(f.window))),
    ),
    partitions('daily', '2024-01-01'),
    validates(),
    answerMentions(/iceberg/i, 'Iceberg'),
  ],
};
