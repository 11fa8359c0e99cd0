import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { until } from '../e2e/platform.ts';
import { mcpClient } from '../support/surfaces.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Deleting a pipeline takes its code location out of every environment first, whichever way it is
// asked for: the REST route, the seed's route and the delete_pipeline tool call one domain method.
// (The real Dagster side, its schedule gone, is in test/e2e/dagster-errors.test.ts.)

const SECRETS = ['SOURCE_DB_URL', 'WAREHOUSE_URL'];

describe('deleting a pipeline undeploys it, on every route', () => {
  let t: TestApp;
  let mcp: Awaited<ReturnType<typeof mcpClient>>;
  const dev = writeOnlyEnvironment('development', { secrets: SECRETS });
  const staging = writeOnlyEnvironment('staging', { secrets: SECRETS });

  beforeAll(async () => {
    t = await createTestApp('pglite', { environments: [dev, staging] });
    mcp = await mcpClient(t);
  });
  afterAll(async () => {
    await mcp?.close();
    await t?.close();
  });

  const workspaceYaml = (dir: string) => readFileSync(join(dir, 'workspace.yaml'), 'utf8');

  /** A pipeline written to both environments, as a deploy without a Dagster leaves it. */
  async function deployedPipeline(name: string): Promise<{ id: string; location: string }> {
    const created = await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    for (const environment of ['development', 'staging']) {
      const deployment = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment });
      expect(deployment.status, JSON.stringify(deployment.body)).toBe(202);
      const done = await until(async () => (await t.call('GET', `/v1/deployments/${deployment.body.id}`)).body, (d) => d.status !== 'pending' && d.status !== 'in_progress', 30_000, 50);
      expect(done.status).toBe('written');
    }
    const location = (await t.call('GET', `/v1/pipelines/${id}/deployments`)).body.deployments[0].location_name as string;
    for (const env of [dev, staging]) expect(workspaceYaml(env.workspaceDir)).toContain(location);
    return { id, location };
  }

  const routes: Array<[string, (id: string) => Promise<void>]> = [
    ['DELETE /v1/pipelines/{id}', async (id) => expect((await t.call('DELETE', `/v1/pipelines/${id}`)).status).toBe(200)],
    ['DELETE /dagster/pipelines/{id}/', async (id) => expect((await t.call('DELETE', `/dagster/pipelines/${id}/`)).status).toBe(200)],
    [
      'the delete_pipeline tool over MCP',
      async (id) => {
        // A client without elicitation gets an approval request; once a person approved it, the same call deletes.
        const asked = await mcp.client.callTool({ name: 'delete_pipeline', arguments: { pipeline_id: id } });
        const approvalId = /apr_[A-Za-z0-9_-]+/.exec((asked.content as Array<{ text: string }>)[0]!.text)?.[0];
        expect(approvalId).toBeDefined();
        await t.services.approvals.decide(LOCAL_PRINCIPAL, approvalId!, true);
        const done = await mcp.client.callTool({ name: 'delete_pipeline', arguments: { pipeline_id: id } });
        expect(done.isError, JSON.stringify(done)).toBeFalsy();
      },
    ],
  ];

  for (const [route, remove] of routes) {
    it(`${route}: the location leaves workspace.yaml and the workspace in every environment, then the rows go`, async () => {
      const { id, location } = await deployedPipeline(`delete via ${route}`);
      await remove(id);
      for (const env of [dev, staging]) {
        expect(workspaceYaml(env.workspaceDir)).not.toContain(location);
        expect(existsSync(join(env.workspaceDir, 'locations', location))).toBe(false);
      }
      expect((await t.call('GET', `/v1/pipelines/${id}`)).status).toBe(404);
      expect((await t.db.query('SELECT 1 FROM deployments WHERE pipeline_id = $1', [id])).length).toBe(0);
    });
  }
});
