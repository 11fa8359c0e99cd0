import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDagster, VENV_BIN, type DagsterServer } from '../support/dagster-server.ts';

// Gate for everything Dagster: the pinned packages install, the webserver and daemon start, a
// location added after start-up loads through reloadWorkspace, and a launched run succeeds.
describe('Dagster smoke', () => {
  let dagster: DagsterServer;
  let workspace: string;
  const gql = async (query: string, variables: object = {}) => {
    const res = await fetch(dagster.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: any; errors?: unknown };
    if (!body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
    return body.data;
  };

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'constellation-smoke-'));
    writeFileSync(join(workspace, 'workspace.yaml'), 'load_from: []\n');
    dagster = await startDagster(join(workspace, 'workspace.yaml'));
  });
  afterAll(() => dagster?.stop());

  it('serves the pinned Dagster version', async () => {
    const info = (await (await fetch(`${dagster.baseUrl}/server_info`)).json()) as Record<string, string>;
    expect(info).toMatchObject({ dagster_version: '1.13.27', dagster_webserver_version: '1.13.27', dagster_graphql_version: '1.13.27' });
  });

  it('loads a location added to workspace.yaml after start-up, launches a run and sees SUCCESS', async () => {
    cpSync(resolve(import.meta.dirname, '../fixtures/smoke_location'), join(workspace, 'smoke'), { recursive: true });
    writeFileSync(
      join(workspace, 'workspace.yaml'),
      `load_from:\n  - python_file:\n      relative_path: smoke/definitions.py\n      working_directory: smoke\n      location_name: smoke\n      executable_path: ${join(VENV_BIN, 'python')}\n`,
    );
    const reload = await gql(`mutation { reloadWorkspace { __typename ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } ... on PythonError { message } } }`);
    expect(reload.reloadWorkspace.__typename, JSON.stringify(reload)).toBe('Workspace');
    const entry = reload.reloadWorkspace.locationEntries.find((e: any) => e.name === 'smoke');
    expect(entry.locationOrLoadError.__typename, JSON.stringify(entry)).toBe('RepositoryLocation');

    const launch = await gql(
      `mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on Error { message } } }`,
      { params: { selector: { repositoryLocationName: 'smoke', repositoryName: '__repository__', jobName: 'answer_job' }, executionMetadata: { tags: [{ key: 'purpose', value: 'smoke' }] } } },
    );
    expect(launch.launchRun.__typename, JSON.stringify(launch)).toBe('LaunchRunSuccess');
    const runId = launch.launchRun.run.runId;

    let status = '';
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !['SUCCESS', 'FAILURE', 'CANCELED'].includes(status)) {
      await new Promise((r) => setTimeout(r, 1000));
      const run = await gql(`query Run($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status tags { key value } } } }`, { id: runId });
      status = run.runOrError.status;
    }
    expect(status, dagster.logs()).toBe('SUCCESS');
  });
});
