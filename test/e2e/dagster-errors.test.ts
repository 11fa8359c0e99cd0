import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { scriptedModel } from '../chat/helpers.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startDagster, type DagsterServer } from '../support/dagster-server.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { chatToolError, mcpClient, mcpToolError, restError } from '../support/surfaces.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { until } from './platform.ts';

const SCHEDULES = `query Schedules($selector: RepositorySelector!) {
  schedulesOrError(repositorySelector: $selector) {
    __typename
    ... on Schedules { results { name scheduleState { status } } }
    ... on Error { message }
  }
}`;

/**
 * A real Dagster whose processes lack the pipeline's secrets: the location loads (secrets are read
 * when a run starts), and a run launch is refused with Dagster's own PythonError, which the
 * webserver sends with HTTP 500. REST, MCP and chat must report that error, the same on each,
 * and ask Dagster once per launch. Deleting the pipeline over REST then takes it, and its running
 * schedule, out of Dagster.
 */
describe('a real Dagster refusing a run: one answer on every surface', () => {
  let dagster: DagsterServer;
  let t: TestApp;
  let llm: ScriptedLlm;
  let mcp: Awaited<ReturnType<typeof mcpClient>>;
  let workspaceDir: string;
  let pipelineId: string;
  let location: string;
  let launches = 0;

  beforeAll(async () => {
    workspaceDir = mkdtempSync(join(tmpdir(), 'constellation-e2e-errors-'));
    writeFileSync(join(workspaceDir, 'workspace.yaml'), 'load_from: []\n');
    // Not given SOURCE_DB_URL or WAREHOUSE_URL, though the environment says it has them.
    const { SOURCE_DB_URL: _s, WAREHOUSE_URL: _w, ...env } = process.env;
    dagster = await startDagster(join(workspaceDir, 'workspace.yaml'), env as Record<string, string>);
    llm = await startScriptedLlm();
    t = await createTestApp('pglite', {
      llm: scriptedModel(llm),
      environments: [
        { name: 'development', workspaceDir, graphqlUrl: dagster.graphqlUrl, secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'], python: DEFAULT_PYTHON, policy: { approval_required_for_model_deploys: false, allow_destructive: true } },
      ],
      graphql: {
        fetch: (input, init) => {
          if (String(init?.body ?? '').includes('mutation LaunchRun')) launches++;
          return fetch(input, init);
        },
      },
    });
    mcp = await mcpClient(t);
  });
  afterAll(async () => {
    await mcp?.close();
    await t?.close();
    await llm?.close();
    await dagster?.stop();
  });

  it('deploys, and Dagster loads the location with its schedule RUNNING', async () => {
    pipelineId = (await t.call('POST', '/v1/pipelines', flagshipSpec())).body.id;
    const requested = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const done = await until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => d.status !== 'pending' && d.status !== 'in_progress');
    expect(done.status, `${JSON.stringify(done)}\n${dagster.logs()}`).toBe('deployed');
    location = done.location_name;
    const data = await new DagsterGraphqlClient(dagster.graphqlUrl).request(SCHEDULES, { selector: { repositoryLocationName: location, repositoryName: '__repository__' } });
    expect(data.schedulesOrError.results.map((s: { scheduleState: { status: string } }) => s.scheduleState.status)).toEqual(['RUNNING']);
  });

  it("reports Dagster's own PythonError, trimmed, with one code, message and hint on REST, MCP and chat, asking once per launch", async () => {
    const before = launches;
    const args = { pipeline_id: pipelineId, environment: 'development' };
    const rest = await restError(t, 'POST', `/v1/pipelines/${pipelineId}/runs`, { environment: 'development' });
    const overMcp = await mcpToolError(mcp.client, 'launch_run', args);
    const inChat = await chatToolError(t, llm, 'launch-missing-secret', 'launch_run', args);

    expect(rest.status).toBe(502);
    expect(rest.code).toBe('upstream:dagster');
    expect(rest.message).toMatch(/^Dagster did not launch the run: .*the environment variable "SOURCE_DB_URL" which is not set/);
    expect(rest.message).not.toMatch(/Stack Trace|File "|site-packages|No Dagster webserver|\n/);
    const seen = { code: rest.code, message: rest.message, hint: rest.hint };
    expect({ code: overMcp.code, message: overMcp.message, hint: overMcp.hint }).toEqual(seen);
    expect({ code: inChat.code, message: inChat.message, hint: inChat.hint }).toEqual(seen);
    expect(inChat.text).toBe(overMcp.text);
    // Three launches, three LaunchRun requests: Dagster's answer was not retried as an outage.
    expect(launches - before).toBe(3);
  });

  it('DELETE /v1/pipelines/{id} takes the location and its schedule out of Dagster before the rows go', async () => {
    expect((await t.call('DELETE', `/v1/pipelines/${pipelineId}`)).status).toBe(200);
    expect(readFileSync(join(workspaceDir, 'workspace.yaml'), 'utf8')).not.toContain(location);
    const gql = new DagsterGraphqlClient(dagster.graphqlUrl);
    const entries = await gql.request('{ workspaceOrError { ... on Workspace { locationEntries { name } } } }');
    expect(entries.workspaceOrError.locationEntries.map((e: { name: string }) => e.name)).not.toContain(location);
    const schedules = await gql.request(SCHEDULES, { selector: { repositoryLocationName: location, repositoryName: '__repository__' } });
    expect(schedules.schedulesOrError.__typename).not.toBe('Schedules');
  });
});
