import { dagsterRefusal } from '../adapters/dagster/dagster-errors.ts';
import { SCHEDULE_INSTIGATION, SENSOR_INSTIGATION, START_SCHEDULE, START_SENSOR, STOP_SCHEDULE, STOP_SENSOR } from '../adapters/dagster/documents.ts';
import type { DagsterGraphqlClient } from '../adapters/dagster/graphql-client.ts';

/** A schedule or sensor of a deployed pipeline, by its name in Dagster, and the state Dagster reports for it. */
export interface TriggerState {
  kind: 'schedule' | 'sensor';
  name: string;
  /** RUNNING or STOPPED (DECLARED_IN_CODE: running by the definition's default, never set by anyone). */
  status: string;
}

/** The Dagster names of the schedules and sensors a compiled pipeline.json (format 2) declares. */
export function triggerNames(pipelineJson: string): Array<{ kind: 'schedule' | 'sensor'; name: string }> {
  const data = JSON.parse(pipelineJson) as { schedules?: Record<string, { name: string }>; sensors?: Record<string, { name: string }> };
  return [
    ...Object.values(data.schedules ?? {}).map((s) => ({ kind: 'schedule' as const, name: s.name })),
    ...Object.values(data.sensors ?? {}).map((s) => ({ kind: 'sensor' as const, name: s.name })),
  ];
}

type Instigation = { id: string; selectorId: string; status: string };
type Kind = 'schedule' | 'sensor';

/** One GraphQL operation: its document, the field it answers under, the answer's type when it worked, and where the state is in it. */
type Operation = { document: string; field: string; ok: string; state: string };

// The same three operations for both kinds, as Dagster names them.
const OPERATIONS: Record<Kind, { selectorName: string; read: Operation; stop: Operation; start: Operation }> = {
  schedule: {
    selectorName: 'scheduleName',
    read: { document: SCHEDULE_INSTIGATION, field: 'scheduleOrError', ok: 'Schedule', state: 'scheduleState' },
    stop: { document: STOP_SCHEDULE, field: 'stopRunningSchedule', ok: 'ScheduleStateResult', state: 'scheduleState' },
    start: { document: START_SCHEDULE, field: 'startSchedule', ok: 'ScheduleStateResult', state: 'scheduleState' },
  },
  sensor: {
    selectorName: 'sensorName',
    read: { document: SENSOR_INSTIGATION, field: 'sensorOrError', ok: 'Sensor', state: 'sensorState' },
    stop: { document: STOP_SENSOR, field: 'stopSensor', ok: 'StopSensorMutationResult', state: 'instigationState' },
    start: { document: START_SENSOR, field: 'startSensor', ok: 'Sensor', state: 'sensorState' },
  },
};

/**
 * Stops (`paused`) or starts every named trigger of a code location through Dagster's GraphQL
 * API, as Dagster's UI does, and answers each one's state afterwards. Dagster stores the state it
 * is told in its instance, so it outlasts reloads of the location; a trigger already in the asked
 * state is left alone. A trigger Dagster does not know (a location not loaded yet) is an error.
 */
export async function setTriggerStates(client: DagsterGraphqlClient, location: string, triggers: Array<{ kind: Kind; name: string }>, paused: boolean): Promise<TriggerState[]> {
  const states: TriggerState[] = [];
  for (const { kind, name } of triggers) {
    const ops = OPERATIONS[kind];
    const selector = { repositoryLocationName: location, repositoryName: '__repository__', [ops.selectorName]: name };
    const where = `${kind} "${name}" in code location ${location}`;
    const current = await call(client, ops.read, { selector }, `Dagster has no ${where}`, 'Deploy the pipeline (or wait for its deployment to load), then try again.');
    // A trigger running by its default (DECLARED_IN_CODE) is running too.
    const running = current.status !== 'STOPPED';
    let { status } = current;
    if (paused && running) status = (await call(client, ops.stop, { id: current.id }, `Dagster did not stop the ${where}`)).status;
    if (!paused && !running) status = (await call(client, ops.start, { selector }, `Dagster did not start the ${where}`)).status;
    states.push({ kind, name, status });
  }
  return states;
}

async function call(client: DagsterGraphqlClient, op: Operation, variables: Record<string, unknown>, doing: string, hint?: string): Promise<Instigation> {
  const answer = (await client.request(op.document, variables))[op.field];
  if (answer.__typename !== op.ok) throw dagsterRefusal(answer, doing, hint);
  return answer[op.state];
}
