import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import type { BlockType } from '../../src/catalog/block-type.ts';
import type { PackageSource } from '../../src/dagster/repo-packages.ts';
import { REPO_PACKAGE_NAME, flagshipSpec, repoBlockType, repoSpec } from '../compile/fixtures.ts';
import { until } from '../e2e/platform.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// A deploy writes the code of the repository packages a pipeline runs at its shard's root, and
// takes it out with the last pipeline that runs it; a package the store does not hold fails the
// deploy, naming the block type and the package, with the shard left as it was.
const STORED = REPO_PACKAGE_NAME;
const UNSTORED = 'constellation_repo_etl_blocks_0badc0de0bad';
const GREETING = 'def make_rows(context, block, **ports):\n    return None\n';

/** The packages a code-repository store would hold: here, one commit's. */
const store: PackageSource & { asked: string[][] } = {
  asked: [],
  async packageFiles(packages): Promise<Record<string, string>> {
    this.asked.push(packages);
    return packages.includes(STORED) ? { [`${STORED}/greeting.py`]: GREETING, [`${STORED}/sql/hello.sql`]: 'select 1\n' } : {};
  },
};

const manifestOf = ({ ref: _ref, builtin: _builtin, ...manifest }: BlockType) => manifest;

describe('deploying pipelines that run code-repository block types', () => {
  let t: TestApp;
  const staging = writeOnlyEnvironment('staging', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] });
  const stored = repoBlockType();
  const unstored = repoBlockType({ slug: 'etl_blocks__farewell_rows', pkg: UNSTORED });

  beforeAll(async () => {
    t = await createTestApp('pglite', { environments: [staging], packageSource: store });
    await t.services.catalogRepo.upsert([manifestOf(stored), manifestOf(unstored)], LOCAL_PRINCIPAL.orgId);
  });
  afterAll(async () => {
    await t?.close();
  });

  const deploy = async (spec: object) => {
    const created = await t.call('POST', '/v1/pipelines', spec);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await t.call('POST', `/v1/pipelines/${created.body.id}/deployments`, { environment: 'staging' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await until(async () => (await t.call('GET', `/v1/deployments/${res.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 30_000, 100);
    return { id: created.body.id as string, done };
  };
  const shardDir = () => join(staging.workspaceDir, 'locations', 'local_shard_1');
  const rootEntries = () => (existsSync(shardDir()) ? readdirSync(shardDir()).sort() : []);

  let greetings: string;
  it('writes the package beside pyproject.toml and lists it in the pipeline\'s folder', { timeout: 60_000 }, async () => {
    const plain = await deploy({ ...flagshipSpec(), name: 'Plain customers' });
    expect(plain.done.status, JSON.stringify(plain.done)).toBe('written');
    expect(store.asked).toEqual([]);
    const { id, done } = await deploy({ ...repoSpec(stored), name: 'Greetings' });
    greetings = id;
    expect(done.status, JSON.stringify(done)).toBe('written');
    expect(store.asked).toEqual([[STORED]]);
    expect(rootEntries()).toEqual([STORED, 'constraints.txt', 'local_shard_1', 'pyproject.toml', 'requirements.txt']);
    expect(readFileSync(join(shardDir(), STORED, 'greeting.py'), 'utf8')).toBe(GREETING);
    expect(readFileSync(join(shardDir(), STORED, 'sql', 'hello.sql'), 'utf8')).toBe('select 1\n');
    expect(readFileSync(join(shardDir(), 'local_shard_1', 'defs', 'greetings', 'packages.txt'), 'utf8')).toContain(`\n${STORED}\n`);
    const pipelineJson = JSON.parse(readFileSync(join(shardDir(), 'local_shard_1', 'defs', 'greetings', 'pipeline.json'), 'utf8'));
    expect(pipelineJson.repo_block_types).toEqual({ [stored.ref]: { callable: `${STORED}.greeting:make_rows` } });
  });

  it('fails a deploy whose package is not stored, naming the block type and the package, the shard untouched', { timeout: 60_000 }, async () => {
    const before = t.services.connections.get('staging')!.workspace.readShard('local_shard_1');
    const { done } = await deploy({ ...repoSpec(unstored), name: 'Farewells' });
    expect(done.status).toBe('failed');
    expect(done.error).toContain(`package ${UNSTORED} (block type ${unstored.ref})`);
    expect(t.services.connections.get('staging')!.workspace.readShard('local_shard_1')).toEqual(before);
  });

  it('takes the package out with the last pipeline that runs it', { timeout: 60_000 }, async () => {
    expect((await t.call('DELETE', `/v1/pipelines/${greetings}`)).status).toBe(200);
    expect(rootEntries()).toEqual(['constraints.txt', 'local_shard_1', 'pyproject.toml', 'requirements.txt']);
  });
});
