/**
 * The dagster.yaml for the Dagster instances this project runs (`npm run dagster`, tests).
 *
 * Runs are launched by the webserver that received launchRun (DefaultRunCoordinator), not queued
 * for the daemon: the daemon refreshes its view of workspace.yaml only about once a minute, so a
 * run queued for a just-deployed location failed with "Location … does not exist in workspace".
 * The daemon still runs schedules and sensors. Storage is SQLite under DAGSTER_HOME; telemetry is
 * off (there is nowhere to send it). Pools hold one step each: the block library puts every step
 * that opens a DuckDB file in one pool (duckdb_steps.py), so the runs of a backfill take turns on
 * the file instead of failing on its lock; no other step has a pool.
 */
export const DAGSTER_YAML = `run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
`;
