import { chmodSync, cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDagster, VENV_BIN, type DagsterServer } from '../support/dagster-server.ts';

/**
 * A bin folder whose dagster-webserver and dagster-daemon first record the alembic revisions of
 * the DAGSTER_HOME's three SQLite databases as they find them (null: not there yet), then become
 * the real ones: what a process meets when it starts.
 */
function recordingBin(): string {
  const bin = mkdtempSync(join(tmpdir(), 'constellation-bin-'));
  symlinkSync(join(VENV_BIN, 'dagster'), join(bin, 'dagster'));
  const record = `import json, os, sqlite3, sys
def revisions(path):
    if not os.path.exists(path):
        return None
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
home = os.environ["DAGSTER_HOME"]
found = {db: revisions(os.path.join(home, db)) for db in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")}
json.dump(found, open(os.path.join(home, sys.argv[1] + ".found.json"), "w"))`;
  for (const name of ['dagster-webserver', 'dagster-daemon']) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${JSON.stringify(join(VENV_BIN, 'python'))} -c '${record}' ${name} || exit 1\nexec ${JSON.stringify(join(VENV_BIN, name))} "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

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
    dagster = await startDagster(join(workspace, 'workspace.yaml'), {}, { bin: recordingBin() });
  });
  afterAll(() => dagster?.stop());

  it('finds its storage created, one alembic revision per database, before the webserver and daemon start', () => {
    const found = ['dagster-webserver', 'dagster-daemon'].map((name) => JSON.parse(readFileSync(join(dagster.home, `${name}.found.json`), 'utf8')));
    const [webserver, daemon] = found as Array<Record<string, string[] | null>>;
    for (const revisions of Object.values(webserver!)) expect(revisions).toEqual([expect.stringMatching(/^[0-9a-f]{12}$/)]);
    // Nothing changed between the two starts: neither had anything left to create.
    expect(daemon).toEqual(webserver);
  });

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
