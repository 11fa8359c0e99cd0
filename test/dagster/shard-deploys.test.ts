import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { locationNameFor } from '../../src/compile/compile-pipeline.ts';
import type { Workspace } from '../../src/dagster/workspace.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { until } from '../e2e/platform.ts';
import { writeLegacyFlagship } from '../support/legacy-location.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Deploys into shards as the worker places them, in an environment with no Dagster (the files are
// written, not loaded): where each pipeline goes, that it stays there, what workspace.yaml lists,
// and how a pipeline deployed before shards moves into one.
describe('deploying pipelines into an org\'s shards (pipelines_per_shard: 2)', () => {
  let t: TestApp;
  let workspace: Workspace;
  const env = writeOnlyEnvironment('development', { pipelinesPerShard: 2, secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] });
  const ids: string[] = [];
  beforeAll(async () => {
    t = await createTestApp('pglite', { environments: [env] });
    workspace = t.services.connections.get('development')!.workspace;
  });
  afterAll(() => t.close());

  const create = async (name: string) => {
    const res = await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const deploy = async (id: string) => {
    const requested = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'development' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const done = await until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 30_000, 50);
    expect(done.status, JSON.stringify(done)).toBe('written');
    return { requested: requested.body.location_name as string, placed: done.location_name as string };
  };
  const yamlEntries = () => (parseYaml(readFileSync(join(env.workspaceDir, 'workspace.yaml'), 'utf8')).load_from ?? []) as Array<Record<string, any>>;

  it('fills shard 1, then 2, then 3, and the request says where each will go', async () => {
    for (let i = 0; i < 5; i++) ids.push(await create(`pipeline ${i}`));
    const placed = [];
    for (const id of ids) {
      const { requested, placed: where } = await deploy(id);
      expect(requested).toBe(where);
      placed.push(where);
    }
    expect(placed).toEqual(['local_shard_1', 'local_shard_1', 'local_shard_2', 'local_shard_2', 'local_shard_3']);
    expect(workspace.shardsOf('local').map((s) => [s.n, s.components.length])).toEqual([
      [1, 2],
      [2, 2],
      [3, 1],
    ]);
  });

  it('keeps every pipeline in its shard when it is deployed again, in any order', async () => {
    const before = workspace.shardsOf('local');
    for (const id of [...ids].reverse()) {
      await t.call('PATCH', `/v1/pipelines/${id}`, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 500 }]);
      await deploy(id);
    }
    expect(workspace.shardsOf('local')).toEqual(before);
    const { placed } = await deploy(ids[4]!);
    expect(placed).toBe('local_shard_3');
  });

  it('lists each shard in workspace.yaml as a module loaded from its project folder, after the system location', () => {
    expect(yamlEntries()).toEqual([
      { python_module: { module_name: 'constellation_blocks.system_location', location_name: 'constellation_system', executable_path: env.python } },
      ...['local_shard_1', 'local_shard_2', 'local_shard_3'].map((shard) => ({
        python_module: { module_name: `${shard}.definitions`, working_directory: join(env.workspaceDir, 'locations', shard), location_name: shard, executable_path: env.python },
      })),
    ]);
    expect(existsSync(join(env.workspaceDir, 'locations', 'local_shard_1', 'pyproject.toml'))).toBe(true);
  });

  it('moves a pipeline deployed before shards into the shard with room, taking its own location out in the same write', async () => {
    const id = await create('deployed the old way');
    const legacy = locationNameFor(id);
    writeLegacyFlagship(workspace, { id, name: 'deployed the old way', version: 1 }, legacy);
    expect(yamlEntries().map((e) => (e.python_file ?? e.python_module).location_name)).toContain(legacy);
    expect(yamlEntries().find((e) => e.python_file)?.python_file).toMatchObject({ relative_path: `locations/${legacy}/definitions.py` });
    const { placed } = await deploy(id);
    expect(placed).toBe('local_shard_3');
    expect(existsSync(workspace.locationDir(legacy))).toBe(false);
    expect(yamlEntries().map((e) => e.python_module.location_name)).toEqual(['constellation_system', 'local_shard_1', 'local_shard_2', 'local_shard_3']);
    ids.push(id);
  });

  it('takes a deleted pipeline out of its shard, and a new one takes its place; an emptied shard leaves the workspace', async () => {
    expect((await t.call('DELETE', `/v1/pipelines/${ids[0]}`)).status).toBe(200);
    expect(workspace.shardsOf('local').find((s) => s.n === 1)!.components).toHaveLength(1);
    const newcomer = await create('newcomer');
    expect((await deploy(newcomer)).placed).toBe('local_shard_1');
    for (const id of ids.slice(2, 4)) expect((await t.call('DELETE', `/v1/pipelines/${id}`)).status).toBe(200);
    expect(workspace.shardsOf('local').map((s) => s.n)).toEqual([1, 3]);
    expect(yamlEntries().map((e) => e.python_module.location_name)).toEqual(['constellation_system', 'local_shard_1', 'local_shard_3']);
    // No half-written, kept or deleted folders are left behind.
    for (const sub of ['.staging', '.previous', '.trash']) expect(existsSync(join(env.workspaceDir, sub)) ? readdirSync(join(env.workspaceDir, sub)) : []).toEqual([]);
  });
});
