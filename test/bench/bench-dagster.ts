import { LOCATION_ENTRY_QUERY, RELOAD_LOCATION } from '../../src/adapters/dagster/documents.ts';
import type { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { DEFAULT_PYTHON, type Environment } from '../../src/dagster/environments.ts';
import type { Services } from '../../src/services.ts';

/** Polls `check` every `everyMs` (finer than a deploy's own steps, so the wait adds little to a figure) until it holds. */
export async function until(check: () => Promise<boolean>, { everyMs = 10, timeoutMs = 600_000 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('bench: gave up waiting');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The development environment a bench deploys to: `secrets` must name every secret the pipeline's blocks need, or the deploy is refused. */
export function benchEnvironment(workspaceDir: string, graphqlUrl: string, secrets: string[]): Environment {
  return { name: 'development', workspaceDir, graphqlUrl, secrets, python: DEFAULT_PYTHON, policy: { approval_required_for_model_deploys: false, allow_destructive: true } };
}

/** Deploys the pipeline's current version through the service and waits for the worker to finish; the location it went to. */
export async function deployAndWait(services: Services, pipelineId: string): Promise<string> {
  const d = await services.deployments.request(LOCAL_PRINCIPAL, pipelineId, { environment: 'development' }, { surface: 'cli' });
  const settled = async () => !['pending', 'in_progress'].includes((await services.deploymentRepo.get(LOCAL_PRINCIPAL, d.id))!.status);
  await until(settled);
  const done = (await services.deploymentRepo.get(LOCAL_PRINCIPAL, d.id))!;
  if (done.status !== 'deployed') throw new Error(`bench deploy ${done.status}: ${done.error ?? done.message}`);
  return done.location_name!;
}

/** Dagster's own reload of a location it knows, until it is LOADED; a location that loads with an error fails the bench. */
export async function reloadUntilLoaded(client: DagsterGraphqlClient, name: string): Promise<void> {
  await client.request(RELOAD_LOCATION, { name });
  let entry: { loadStatus?: string; locationOrLoadError?: { __typename: string; message?: string } | null } = {};
  await until(async () => {
    entry = (await client.request(LOCATION_ENTRY_QUERY, { name })).workspaceLocationEntryOrError;
    return entry.loadStatus === 'LOADED';
  });
  if (entry.locationOrLoadError?.__typename !== 'RepositoryLocation') throw new Error(`bench: ${name} did not load: ${entry.locationOrLoadError?.message ?? JSON.stringify(entry)}`);
}
