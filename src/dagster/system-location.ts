import { WORKSPACE_LOCATIONS } from '../adapters/dagster/documents.ts';
import { dagsterRefusal } from '../adapters/dagster/dagster-errors.ts';
import { AppError } from '../errors.ts';
import type { DagsterConnection } from './dagster-connections.ts';
import type { WorkspaceLocks } from './workspace-lock.ts';
import { SYSTEM_LOCATION } from './workspace.ts';

/**
 * The environment's system code location, loaded in its Dagster: returns its name once Dagster
 * has it loaded. Every workspace.yaml the service writes lists it, but a Dagster may not have it
 * yet: a workspace.yaml written before there was one (rewritten here, under the workspace lock as
 * every writer), or a webserver started on an older one and not reloaded since. Dagster is then
 * asked to load it (the workspace reloaded for a location it does not know, the location alone for
 * one that failed) and waited for, as long as a deploy waits for a shard; a location that does not
 * load is an error carrying Dagster's message. The reload happens after the lock, as a deploy's
 * does: workspace.yaml is whole whenever Dagster reads it.
 */
export async function loadedSystemLocation(connection: DagsterConnection, locks: WorkspaceLocks): Promise<string> {
  const { env, client, locations, workspace } = connection;
  if (!client || !locations) throw new Error(`loadedSystemLocation: environment ${env.name} has no Dagster GraphQL URL`);
  const data = await client.request(WORKSPACE_LOCATIONS);
  const listed = data.workspaceOrError;
  if (listed.__typename !== 'Workspace') throw dagsterRefusal(listed, 'Dagster could not list its code locations');
  const entry = (listed.locationEntries as Array<{ name: string; loadStatus: string; locationOrLoadError: { __typename: string } | null }>).find((e) => e.name === SYSTEM_LOCATION);
  if (entry?.loadStatus === 'LOADED' && entry.locationOrLoadError?.__typename === 'RepositoryLocation') return SYSTEM_LOCATION;

  await locks.run(env.name, () => workspace.addSystemEntry());
  const outcome = await locations.load(SYSTEM_LOCATION);
  if (!outcome.ok) {
    throw new AppError('upstream:system_location', `Dagster could not load the system code location ${SYSTEM_LOCATION} of "${env.name}": ${outcome.error}`, {
      hint: `It is the block library's module constellation_blocks.system_location, run by the environment's python (${env.python}): check that constellation_blocks is installed there, and that the webserver serves ${workspace.dir}/workspace.yaml.`,
    });
  }
  return SYSTEM_LOCATION;
}
