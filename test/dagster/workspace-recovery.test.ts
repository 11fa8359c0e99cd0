import { Writable } from 'node:stream';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { locationNameFor, type CompiledPipeline } from '../../src/compile/compile-pipeline.ts';
import { ShardCheckers } from '../../src/adapters/dagster/shard-check.ts';
import { DeployWorker } from '../../src/dagster/deploy-worker.ts';
import { shardFor } from '../../src/dagster/shard-change.ts';
import { withMember, type ShardFiles } from '../../src/dagster/shard-files.ts';
import type { DeploymentRow, DeploymentStatus } from '../../src/dagster/deployment-repo.ts';
import { Workspace } from '../../src/dagster/workspace.ts';
import { WorkspaceLocks } from '../../src/dagster/workspace-lock.ts';
import { recoverWorkspace } from '../../src/dagster/workspace-recovery.ts';
import { createLogger } from '../../src/logger.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { until } from '../e2e/platform.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// What a deploy killed part-way leaves in a workspace, made as the kill would leave it, and what
// recovery makes of it: at a worker's start, and when the deployment is resumed.
describe('what interrupted deploys leave behind', () => {
  let t: TestApp;
  let workspace: Workspace;
  let locks: WorkspaceLocks;
  // One pipeline per shard, so that a pipeline's first deploy makes a shard of its own.
  const env = writeOnlyEnvironment('development', { pipelinesPerShard: 1 });
  const ws = (...parts: string[]) => join(env.workspaceDir, ...parts);
  const tag = () => Math.random().toString(16).slice(2, 14).padEnd(12, '0');
  beforeAll(async () => {
    // No worker of its own: each test starts the workers it needs.
    // No background sweep of written deployments: it would call the stand-in locations tests here put on the connection.
    t = await createTestApp('pglite', { environments: [env], deployWorkers: 0, reconcileMs: 0 });
    workspace = t.services.connections.get('development')!.workspace;
    locks = new WorkspaceLocks(t.db);
  });
  afterAll(() => t.close());

  const newPipeline = async () => (await t.call('POST', '/v1/pipelines', { ...flagshipSpec(), name: `p ${tag()}` })).body.id as string;
  /** A deployment row in `status`, its lease held by `owner` (expired when `expired`). */
  const deployment = async (pipelineId: string, status: DeploymentStatus, owner: string | null = null, expired = false): Promise<DeploymentRow> => {
    const d = await t.services.deploymentRepo.create(LOCAL_PRINCIPAL, { pipelineId, version: 1, environment: 'development', locationName: locationNameFor(pipelineId) });
    await t.db.query(
      `UPDATE deployments SET status = $2, lease_owner = $3, lease_expires_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() + make_interval(secs => $4) END, attempts = 1 WHERE id = $1`,
      [d.id, status, owner, expired ? -5 : 60],
    );
    return d;
  };
  /** Location files that say which version they are. */
  const writeLocation = (dir: string, version: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'definitions.py'), `# ${version}\n`);
    writeFileSync(join(dir, 'pipeline.json'), `{"version": "${version}"}\n`);
  };
  const versionAt = (location: string) => (existsSync(ws('locations', location, 'definitions.py')) ? readFileSync(ws('locations', location, 'definitions.py'), 'utf8').slice(2).trim() : null);
  /** Killed after the kept copy was moved aside, before the new files were renamed in: .previous holds the only copy. */
  const killedBetweenRenames = (location: string, deploymentId: string) => {
    writeLocation(ws('locations', location), 'live');
    mkdirSync(ws('.previous'), { recursive: true });
    renameSync(ws('locations', location), ws('.previous', `${location}-${tag()}-${deploymentId}`));
    writeLocation(ws('.staging', `${location}-${tag()}`), 'new');
  };
  /** Killed after both renames, while Dagster loaded the new files: the live version waits in .previous. */
  const killedWhileLoading = (location: string, deploymentId: string) => {
    writeLocation(ws('.previous', `${location}-${tag()}-${deploymentId}`), 'live');
    writeLocation(ws('locations', location), 'new');
  };
  const kept = (location: string) => (existsSync(ws('.previous')) ? readdirSync(ws('.previous')).filter((n) => n.startsWith(`${location}-`)) : []);

  it('puts back or drops each kept copy by its deployment, and never touches one that is being loaded', async () => {
    const [resumed, failed, deployed, loading, expired, gone, sibling] = await Promise.all(Array.from({ length: 7 }, newPipeline));
    const cases = {
      resumed: await deployment(resumed!, 'in_progress', 'me'),
      // Another deployment the same worker is loading right now (a worker deploys several at once).
      sibling: await deployment(sibling!, 'in_progress', 'me'),
      failed: await deployment(failed!, 'failed'),
      deployed: await deployment(deployed!, 'deployed'),
      loading: await deployment(loading!, 'in_progress', 'other-worker'),
      expired: await deployment(expired!, 'in_progress', 'dead-worker', true),
    };
    const loc = (id: string) => locationNameFor(id);
    killedBetweenRenames(loc(resumed!), cases.resumed.id);
    killedWhileLoading(loc(failed!), cases.failed.id);
    killedWhileLoading(loc(deployed!), cases.deployed.id);
    killedWhileLoading(loc(loading!), cases.loading.id);
    killedWhileLoading(loc(sibling!), cases.sibling.id);
    killedBetweenRenames(loc(expired!), cases.expired.id);
    // A copy whose deployment no longer exists (its pipeline was deleted), and one named before
    // copies carried their deployment, with nothing in its place.
    writeLocation(ws('.previous', `${loc(gone!)}-${tag()}-00000000-0000-4000-8000-000000000000`), 'orphan');
    writeLocation(ws('.previous', `pipeline_legacy-${tag()}`), 'legacy');
    writeLocation(ws('.trash', 'pipeline_x-half-deleted'), 'half');

    const result = await locks.run('development', (tx) => recoverWorkspace(workspace, t.services.deploymentRepo.with(tx), cases.resumed.id));
    // Half-written and half-deleted folders: gone.
    expect(readdirSync(ws('.trash'))).toEqual([]);
    expect(readdirSync(ws('.staging'))).toEqual([]);
    // The only copy of the live version goes back when its deployment is resumed by the caller.
    expect(versionAt(loc(resumed!))).toBe('live');
    expect(kept(loc(resumed!))).toEqual([]);
    // A deployment that failed leaves the version that was live before it.
    expect(versionAt(loc(failed!))).toBe('live');
    // One that succeeded keeps its own files; the copy goes.
    expect(versionAt(loc(deployed!))).toBe('new');
    expect(kept(loc(deployed!))).toEqual([]);
    // Another deployment in progress, its lease live or run out, the caller's worker's or another's:
    // untouched, whoever resumes it clears it.
    for (const id of [loading!, sibling!]) {
      expect(versionAt(loc(id))).toBe('new');
      expect(kept(loc(id))).toHaveLength(1);
    }
    expect(versionAt(loc(expired!))).toBeNull();
    expect(kept(loc(expired!))).toHaveLength(1);
    expect(versionAt(loc(gone!))).toBeNull();
    expect(versionAt('pipeline_legacy')).toBe('legacy');
    expect(result.restored.sort()).toEqual([loc(resumed!), loc(failed!), 'pipeline_legacy'].sort());
    const yaml = readFileSync(ws('workspace.yaml'), 'utf8');
    for (const name of [loc(resumed!), loc(failed!), 'pipeline_legacy']) expect(yaml).toContain(`location_name: ${name}`);
  });


  const logs: Array<Record<string, unknown>> = [];
  const newWorker = (compile?: (d: DeploymentRow) => Promise<CompiledPipeline>) =>
    new DeployWorker({
      repo: t.services.deploymentRepo,
      connections: t.services.connections,
      locks,
      compile: compile ?? ((d) => t.services.compiler.compile({ orgId: d.org_id, userId: d.requested_by }, d.pipeline_id, d.version)),
      recompile: (id, version, d) => t.services.compiler.compileDeployed({ orgId: d.org_id, userId: d.requested_by }, id, version),
      checkers: new ShardCheckers(),
      logger: createLogger('info', new Writable({ write: (chunk, _enc, done) => (logs.push(...String(chunk).split('\n').filter(Boolean).map((l) => JSON.parse(l))), done()) })),
      leaseSeconds: 30,
      concurrency: 1,
      pollMs: 50,
    });
  const status = (id: string) => until(async () => (await t.services.deploymentRepo.get(LOCAL_PRINCIPAL, id))!, (d) => !['pending', 'in_progress'].includes(d.status), 30_000, 50);
  /** What .staging, .previous and .trash hold for a location (the first test leaves others' copies on purpose); 'local_shard' for every shard. */
  const leftovers = (location: string) => ['.staging', '.previous', '.trash'].flatMap((sub) => (existsSync(ws(sub)) ? readdirSync(ws(sub)) : []).filter((n) => n.startsWith(location === 'local_shard' ? location : `${location}-`)));
  /** The pipeline.json a pipeline has in its shard, if it is in one. */
  const inShard = (id: string) => {
    const found = workspace.findPipeline(id);
    return found ? { ...found, json: JSON.parse(readFileSync(ws('locations', found.shard, found.shard, 'defs', found.component, 'pipeline.json'), 'utf8')) } : null;
  };
  /** A shard's files as a deploy writes them, holding these pipelines' current versions. */
  const shardOf = async (shard: string, ids: string[], change: (files: ShardFiles) => ShardFiles = (f) => f) => {
    let files: ShardFiles = {};
    for (const id of ids) files = withMember(shard, files, await t.services.compiler.compile(LOCAL_PRINCIPAL, id));
    return change(files);
  };
  const writeFiles = (dir: string, files: ShardFiles) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  };

  it('a worker clears them when it starts: half-written folders go, the live version of a failed deploy comes back', async () => {
    const id = await newPipeline();
    const failed = await deployment(id, 'failed');
    killedWhileLoading(locationNameFor(id), failed.id);
    writeLocation(ws('.staging', `${locationNameFor(id)}-${tag()}`), 'half-written');
    const worker = newWorker();
    worker.start();
    await worker.stop(); // the worker clears the workspace before it looks for work
    expect(versionAt(locationNameFor(id))).toBe('live');
    expect(leftovers(locationNameFor(id))).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'cleared what interrupted deploys left in the workspace', restored: [locationNameFor(id)] }));
  });

  it('a deployment whose worker died between the two renames (of a location from before shards) is resumed from the version that was live, and leaves nothing', async () => {
    const id = await newPipeline();
    const location = locationNameFor(id);
    const d = await deployment(id, 'in_progress', 'dead-worker', true);
    killedBetweenRenames(location, d.id);
    expect(versionAt(location)).toBeNull();
    const worker = newWorker();
    worker.start();
    try {
      const done = await status(d.id);
      expect(done).toMatchObject({ status: 'written', attempts: 2, lease_owner: null });
    } finally {
      await worker.stop();
    }
    // The kept copy went back first (the only copy of the live version), then the deploy replaced it.
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'cleared what interrupted deploys left in the workspace', restored: [location] }));
    // It moved into a shard, and its location from before shards left.
    expect(inShard(id)?.json.pipeline.id).toBe(id);
    expect(existsSync(ws('locations', location))).toBe(false);
    expect(leftovers(location)).toEqual([]);
    expect(leftovers('local_shard')).toEqual([]);
  });

  it("a deployment whose worker died between the two renames of a shard is resumed from the shard that was live, and leaves the shard's other pipelines as they were", async () => {
    const [other, id] = [await newPipeline(), await newPipeline()];
    const shard = 'local_shard_9';
    const live = await shardOf(shard, [other!, id!], (files) => ({ ...files, [`${shard}/defs/marker.txt`]: 'live' }));
    await deployment(id!, 'written'); // the version in the live shard
    const d = await deployment(id!, 'in_progress', 'dead-worker', true);
    writeFiles(ws('.previous', `${shard}-${tag()}-${d.id}`), live);
    writeFiles(ws('.staging', `${shard}-${tag()}`), await shardOf(shard, [other!, id!]));
    const worker = newWorker();
    worker.start();
    try {
      expect(await status(d.id)).toMatchObject({ status: 'written', attempts: 2, lease_owner: null, location_name: shard });
    } finally {
      await worker.stop();
    }
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'cleared what interrupted deploys left in the workspace', restored: [shard] }));
    const now = workspace.readShard(shard);
    // The live shard came back and the deploy was made on it: the other pipeline's files are the live ones.
    for (const [path, content] of Object.entries(live).filter(([p]) => !p.includes(`/defs/${inShard(id!)!.component}/`))) expect(now[path]).toBe(content);
    expect(inShard(id!)?.shard).toBe(shard);
    expect(leftovers('local_shard')).toEqual([]);
  });

  it('a first deploy whose worker died after its files went in place, resumed and refused by Dagster, leaves no location', async () => {
    const id = await newPipeline();
    const d = await deployment(id, 'in_progress', 'dead-worker', true);
    // Killed after both renames, into a new shard (pipelines_per_shard is 1 here); nothing was there before.
    const { shard: location, isNew } = shardFor(workspace, await t.services.compiler.compile(LOCAL_PRINCIPAL, id));
    expect(isNew).toBe(true);
    writeFiles(ws('locations', location), await shardOf(location, [id]));
    // Dagster refusing the location stands in for a real load failure (tested against a real
    // Dagster in test/e2e/flagship.test.ts); what is under test is what the worker leaves on disk.
    const connection = t.services.connections.get('development')!;
    const loads: string[] = [];
    connection.locations = { load: async (name: string) => (loads.push(name), { ok: false as const, error: 'refused' }), reloadWorkspace: async () => undefined } as never;
    const worker = newWorker();
    worker.start();
    try {
      expect(await status(d.id)).toMatchObject({ status: 'failed', attempts: 2, error: 'refused' });
    } finally {
      await worker.stop();
      connection.locations = null;
    }
    expect(loads).toEqual([location]);
    expect(existsSync(ws('locations', location))).toBe(false);
    expect(readFileSync(ws('workspace.yaml'), 'utf8')).not.toContain(location);
    expect(leftovers(location)).toEqual([]);
  });

  it('a worker whose lease was taken over while it compiled changes no file', async () => {
    const id = await newPipeline();
    const d = await deployment(id, 'pending');
    let release!: () => void;
    const compiling = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const began = new Promise<void>((r) => (started = r));
    const worker = newWorker(async (row) => {
      started();
      await compiling;
      return t.services.compiler.compile({ orgId: row.org_id, userId: row.requested_by }, row.pipeline_id, row.version);
    });
    worker.start();
    try {
      await began;
      // Its lease ran out and another worker took the deployment over.
      await t.db.query(`UPDATE deployments SET lease_owner = 'the-new-owner', attempts = attempts + 1 WHERE id = $1`, [d.id]);
      release();
      await until(async () => logs.some((l) => l.deployment_id === d.id && l.msg === 'lost the lease before finishing; another worker carries on'), Boolean, 30_000, 50);
    } finally {
      await worker.stop();
    }
    expect(existsSync(ws('locations', locationNameFor(id)))).toBe(false);
    expect(inShard(id)).toBeNull();
    expect(leftovers(locationNameFor(id))).toEqual([]);
    expect(leftovers('local_shard')).toEqual([]);
    expect(await t.services.deploymentRepo.get(LOCAL_PRINCIPAL, d.id)).toMatchObject({ status: 'in_progress', lease_owner: 'the-new-owner' });
  });
});
