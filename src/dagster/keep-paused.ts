import type { DagsterGraphqlClient } from '../adapters/dagster/graphql-client.ts';
import { toAppError } from '../errors.ts';
import { setTriggerStates, triggerNames } from './dagster-triggers.ts';
import type { TriggerStateRepo } from './trigger-state-repo.ts';

/**
 * Pauses a version's schedules and sensors once Dagster has loaded it, when the pipeline's were
 * paused in this environment: Dagster keeps the stopped ones stopped, but one this version adds
 * would start RUNNING. Whoever finds a version loaded calls this (a deploy, or the reconciler for
 * a written one Dagster loaded later). What to add to the deployment's message (nothing when not paused).
 */
export async function keepPaused(
  states: TriggerStateRepo | undefined,
  client: DagsterGraphqlClient | null,
  d: { pipeline_id: string; environment: string },
  location: string,
  pipelineJson: string,
): Promise<string> {
  if (!client || !(await states?.paused(d.pipeline_id, d.environment))) return '';
  try {
    const triggers = await setTriggerStates(client, location, triggerNames(pipelineJson), true);
    return triggers.length ? ` Its ${triggers.length} schedule(s) and sensor(s) stay paused.` : '';
  } catch (error) {
    return ` Its schedules and sensors were paused, but pausing them again failed (${toAppError(error).message}): pause them again.`;
  }
}
