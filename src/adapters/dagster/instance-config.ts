/**
 * The dagster.yaml for the Dagster instances this project runs (`npm run dagster`, tests).
 *
 * Runs are launched by the webserver that received launchRun (DefaultRunCoordinator), not queued
 * for the daemon: the daemon refreshes its view of workspace.yaml only about once a minute, so a
 * run queued for a just-deployed location failed with "Location … does not exist in workspace".
 * The daemon still runs schedules and sensors. Storage is SQLite under DAGSTER_HOME; telemetry is
 * off (there is nowhere to send it).
 */
export const DAGSTER_YAML = `run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
`;
