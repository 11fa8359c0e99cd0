import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DagsterGraphqlClient } from '../../src/adapters/dagster/graphql-client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { deployToDevelopment, runToEnd, startPlatform, until, type Platform } from './platform.ts';

const SERVED_LOCATION = `query ServedLocation($name: String!) {
  workspaceLocationEntryOrError(name: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      loadStatus
      displayMetadata { key value }
      locationOrLoadError { __typename ... on RepositoryLocation { serverId } ... on PythonError { message } }
    }
  }
}`;

/**
 * Issue 18, Done-means 2: the flagship (seed 003, Postgres → ClickHouse) in an environment that
 * says code_servers: grpc. Its shard is served by its own `dagster code-server` process, run by the
 * supervisor as npm run dagster runs it; a real webserver and daemon load it by host and port, the
 * run goes through it, and a redeploy reloads that same server with the new version.
 */
describe('the flagship through a gRPC code server', () => {
  let platform: Platform;
  let t: TestApp;
  let gql: DagsterGraphqlClient;
  let pipelineId: string;
  let location: string;
  let firstServer: { pid: number | undefined; serverId: string };

  beforeAll(async () => {
    platform = await startPlatform({ customers: 10, codeServers: 'grpc' });
    t = await createTestApp('postgres', { environments: [platform.environment] });
    gql = new DagsterGraphqlClient(platform.dagster.graphqlUrl);
  });
  afterAll(async () => {
    await t?.close();
    await platform?.stop();
  });

  const served = async () => (await gql.request(SERVED_LOCATION, { name: location })).workspaceLocationEntryOrError;
  const codeServer = () => platform.dagster.codeServers!.running().find((s) => s.location === location);
  const grpcEntry = () =>
    (parseYaml(readFileSync(join(platform.environment.workspaceDir, 'workspace.yaml'), 'utf8')).load_from as Array<Record<string, any>>).find(
      (e) => e.grpc_server?.location_name === location,
    )?.grpc_server;

  it('deploys the pipeline into a shard that Dagster loads from the shard\'s own code server', async () => {
    const block = async (name: string, block_type: string, config: object) => (await t.call('POST', '/v1/blocks', { name, block_type, config })).body.id as string;
    const extract = await block('Extract customers', 'postgres_incremental_extract', { table: 'public.customers', connection_secret: 'SOURCE_DB_URL' });
    const load = await block('Load customers', 'clickhouse_replacing_merge_tree_load', { table: 'customers', order_by: ['id'], connection_secret: 'WAREHOUSE_URL' });
    expect((await t.call('POST', '/v1/edges', { source_block_id: extract, source_port: 'rows', target_block_id: load, target_port: 'rows' })).status).toBe(201);
    const created = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'customers over grpc', block_ids: [extract, load], configuration: { schedule: '0 */6 * * *' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    pipelineId = created.body.pipeline_id;

    const done = await deployToDevelopment(t, pipelineId);
    expect(done.version).toBe(1);
    expect(done.status, `${JSON.stringify(done)}\n${platform.dagster.logs()}`).toBe('deployed');
    location = done.location_name;

    // workspace.yaml names the shard by host and port, from the environment's range.
    const { from, to } = platform.environment.grpc!.ports;
    const entry = grpcEntry();
    expect(entry).toEqual({ host: '127.0.0.1', port: expect.any(Number), location_name: location });
    expect(entry.port).toBeGreaterThanOrEqual(from);
    expect(entry.port).toBeLessThanOrEqual(to);
    // The supervisor runs its server there, and Dagster reached it there.
    expect(codeServer()).toMatchObject({ host: '127.0.0.1', port: entry.port });
    const loaded = await served();
    expect(loaded.locationOrLoadError.__typename, JSON.stringify(loaded)).toBe('RepositoryLocation');
    expect(loaded.displayMetadata).toEqual(expect.arrayContaining([{ key: 'host', value: '127.0.0.1' }, { key: 'port', value: String(entry.port) }]));
    firstServer = { pid: codeServer()!.pid, serverId: loaded.locationOrLoadError.serverId };
  });

  it('runs it through the code server: every customer lands in ClickHouse', async () => {
    const status = await runToEnd(t, platform, pipelineId);
    expect(status.run).toMatchObject({ dagster_status: 'SUCCESS', version: 1 });
    const rows = await platform.clickhouse.query('SELECT id, name FROM customers FINAL ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('reloads the same code server on a redeploy, and the new version is what runs', async () => {
    // Version 2 loads into another table: rows there can only come from the new code.
    const edit = await t.call('PATCH', `/v1/pipelines/${pipelineId}`, [{ op: 'replace', path: '/blocks/1/config/table', value: 'customers_v2' }]);
    expect(edit.body.version, JSON.stringify(edit.body)).toBe(2);
    const done = await deployToDevelopment(t, pipelineId);
    expect(done.version).toBe(2);
    expect(done.status, `${JSON.stringify(done)}\n${platform.dagster.logs()}`).toBe('deployed');
    expect(done.location_name).toBe(location);

    // The same process on the same port, asked by Dagster to load its code again (a new server id).
    expect(codeServer()).toMatchObject({ pid: firstServer.pid, restarts: 0 });
    const reloaded = await served();
    expect(reloaded.locationOrLoadError.__typename).toBe('RepositoryLocation');
    expect(reloaded.locationOrLoadError.serverId).not.toBe(firstServer.serverId);

    // Three new customers past the watermark: version 2 puts them into its table, and only there.
    await platform.source.query(
      `INSERT INTO customers SELECT i, 'customer ' || i, NULL, NULL, timestamp '2026-02-02 00:00:00' + i * interval '1 minute', timestamp '2026-02-02 00:00:00' + i * interval '1 minute'
       FROM generate_series(11, 13) AS i`,
    );
    const status = await runToEnd(t, platform, pipelineId);
    expect(status.run).toMatchObject({ dagster_status: 'SUCCESS', version: 2 });
    expect((await platform.clickhouse.query('SELECT id FROM customers_v2 FINAL ORDER BY id')).map((r) => Number(r.id))).toEqual(expect.arrayContaining([11, 12, 13]));
    expect((await platform.clickhouse.query('SELECT id FROM customers FINAL ORDER BY id')).map((r) => Number(r.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('stops the shard\'s code server when its last pipeline is deleted', async () => {
    const pid = codeServer()!.pid!;
    expect((await t.call('DELETE', `/dagster/pipelines/${pipelineId}/`)).status).toBe(200);
    expect(grpcEntry()).toBeUndefined();
    const gone = await until(
      async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      (g) => g,
      30_000,
    );
    expect(gone).toBe(true);
    expect(codeServer()).toBeUndefined();
  });
});
