/**
 * Every GraphQL document the service sends to Dagster, checked against the schema that the pinned
 * dagster-graphql prints (test/dagster/graphql-documents.test.ts). Each union selects __typename
 * and the error's message, so a failure reads as one in every Dagster version.
 */
const LOCATION_ENTRY = `
  name
  loadStatus
  locationOrLoadError {
    __typename
    ... on RepositoryLocation { name repositories { name } }
    ... on PythonError { message stack errorChain { error { message } } }
  }`;

export const WORKSPACE_LOCATIONS = `query WorkspaceLocations {
  workspaceOrError {
    __typename
    ... on Workspace { locationEntries { ${LOCATION_ENTRY} } }
    ... on PythonError { message }
  }
}`;

export const RELOAD_WORKSPACE = `mutation ReloadWorkspace {
  reloadWorkspace {
    __typename
    ... on Workspace { locationEntries { ${LOCATION_ENTRY} } }
    ... on Error { message }
  }
}`;

export const RELOAD_LOCATION = `mutation ReloadLocation($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry { ${LOCATION_ENTRY} }
    ... on Error { message }
  }
}`;

export const LOCATION_ENTRY_QUERY = `query LocationEntry($name: String!) {
  workspaceLocationEntryOrError(name: $name) {
    __typename
    ... on WorkspaceLocationEntry { ${LOCATION_ENTRY} }
    ... on PythonError { message }
  }
}`;

export const LAUNCH_RUN = `mutation LaunchRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}`;

const RUN_FIELDS = `runId status jobName startTime endTime updateTime tags { key value }`;

export const RUNS_BY_TAGS = `query RunsByTags($filter: RunsFilter!, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs { results { ${RUN_FIELDS} } }
    ... on Error { message }
  }
}`;

export const RUN = `query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { ${RUN_FIELDS} }
    ... on Error { message }
  }
}`;

/** A page of a run's events with `fields` selected, failures' errors always. */
const runEvents = (name: string, fields: string) => `query ${name}($runId: ID!, $afterCursor: String, $limit: Int) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ${fields}
        ... on ExecutionStepFailureEvent { error { message } }
        ... on RunFailureEvent { error { message } }
      }
    }
    ... on Error { message }
  }
}`;

export const RUN_LOGS = runEvents('RunLogs', '... on MessageEvent { message timestamp level stepKey eventType }');

export const TERMINATE_RUN = `mutation TerminateRun($runId: String!) {
  terminateRun(runId: $runId, terminatePolicy: SAFE_TERMINATE) {
    __typename
    ... on TerminateRunSuccess { run { runId status } }
    ... on TerminateRunFailure { message }
    ... on Error { message }
  }
}`;

export const SCHEDULE_STATE = `query ScheduleState($selector: ScheduleSelector!) {
  scheduleOrError(scheduleSelector: $selector) {
    __typename
    ... on Schedule { name cronSchedule executionTimezone scheduleState { status } }
    ... on Error { message }
  }
}`;

// A pipeline's schedules and sensors, paused and resumed by pause_triggers / resume_triggers.
const INSTIGATION = 'id selectorId status';

export const SCHEDULE_INSTIGATION = `query ScheduleInstigation($selector: ScheduleSelector!) {
  scheduleOrError(scheduleSelector: $selector) {
    __typename
    ... on Schedule { name scheduleState { ${INSTIGATION} } }
    ... on Error { message }
  }
}`;

export const SENSOR_INSTIGATION = `query SensorInstigation($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { name sensorState { ${INSTIGATION} } }
    ... on Error { message }
  }
}`;

export const START_SCHEDULE = `mutation StartSchedule($selector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $selector) {
    __typename
    ... on ScheduleStateResult { scheduleState { ${INSTIGATION} } }
    ... on Error { message }
  }
}`;

export const STOP_SCHEDULE = `mutation StopSchedule($id: String!) {
  stopRunningSchedule(id: $id) {
    __typename
    ... on ScheduleStateResult { scheduleState { ${INSTIGATION} } }
    ... on Error { message }
  }
}`;

export const START_SENSOR = `mutation StartSensor($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { ${INSTIGATION} } }
    ... on Error { message }
  }
}`;

export const STOP_SENSOR = `mutation StopSensor($id: String!) {
  stopSensor(id: $id) {
    __typename
    ... on StopSensorMutationResult { instigationState { ${INSTIGATION} } }
    ... on Error { message }
  }
}`;

// Partitions and backfills (a job's partition keys; a backfill of some of them, and its progress).
export const JOB_PARTITION_KEYS = `query JobPartitionKeys($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline { name partitionKeysOrError { partitionKeys } }
    ... on Error { message }
  }
}`;

export const LAUNCH_BACKFILL = `mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}`;

export const BACKFILL = `query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {
      id status numPartitions partitionNames partitionSetName timestamp endTimestamp
      tags { key value }
      error { message }
      partitionStatuses { results { partitionName runId runStatus } }
    }
    ... on Error { message }
  }
}`;

// What a run's step outputs carry as JSON metadata: the source inspection job's answer (inspect_source.py).
export const RUN_OUTPUT_METADATA = runEvents('RunOutputMetadata', '... on ExecutionStepOutputEvent { stepKey metadataEntries { label ... on JsonMetadataEntry { jsonString } } }');
