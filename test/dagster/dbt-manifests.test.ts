import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardChecker } from '../../src/adapters/dagster/shard-check.ts';
import { compilePipeline, type CompiledPipeline } from '../../src/compile/compile-pipeline.ts';
import { DbtManifests, manifestPath } from '../../src/dagster/dbt-manifests.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { withMember, type ShardFiles } from '../../src/dagster/shard-files.ts';
import { AppError } from '../../src/errors.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { PIPELINE, typesFor } from '../compile/fixtures.ts';

// The deploy's parse against the real dbt, on the block library's fixture project.
const FIXTURE = resolve(import.meta.dirname, '../../blocks/python/tests/fixtures/dbt_project');
const SHARD = 'local_shard_1';
// This checkout's block library, ahead of the one the virtualenv installs (a worktree's may be newer).
const ENV = { ...process.env, PYTHONPATH: resolve(import.meta.dirname, '../../blocks/python') };

let work: string;
let project: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'constellation-dbt-manifests-'));
  project = join(work, 'tracker');
  cpSync(FIXTURE, project, { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** dbt_run → dbt_test on `projectDir`, compiled as a deploy compiles it (compile never reads the project). */
function compiled(slug: string, projectDir: string): CompiledPipeline {
  const spec = {
    name: `dbt ${slug}`,
    blocks: [
      { id: 'transform', type: 'dbt_run@1', config: { project_dir: projectDir, command: 'run' } },
      { id: 'test', type: 'dbt_test@1', config: { project_dir: projectDir } },
    ],
    edges: [{ from: { block: 'transform', port: 'models' }, to: { block: 'test', port: 'models' } }],
    jobs: [],
    schedules: [],
    sensors: [],
  } as unknown as PipelineSpec;
  return compilePipeline({ ...PIPELINE, slug }, spec, typesFor(spec));
}

const timeout = { timeout: 120_000 };

describe('the deploy parses each dbt project and keeps its manifest with the pipeline', () => {
  it('writes a manifest beside pipeline.json for each dbt block, and the shard loads with it', timeout, async () => {
    const manifests = new DbtManifests({ cacheDir: join(work, 'cache-a'), env: ENV });
    const member = compiled('tracker', project);
    expect(Object.keys(member.files)).toEqual(['defs.yaml', 'pipeline.json']);

    const prepared = await manifests.withManifests(member, DEFAULT_PYTHON);
    expect(Object.keys(prepared.files).sort()).toEqual(['dbt/test/manifest.json', 'dbt/transform/manifest.json', 'defs.yaml', 'pipeline.json']);
    const manifest = JSON.parse(prepared.files[manifestPath('transform')]!);
    expect(Object.keys(manifest.nodes)).toContain('model.tracker.issues_per_user');
    // The compiled part is untouched: compile stays pure, its hash is the version's.
    expect(prepared.contentHash).toBe(member.contentHash);
    expect(prepared.files['pipeline.json']).toBe(member.files['pipeline.json']);

    const dir = join(work, 'shard');
    writeShard(dir, withMember(SHARD, {}, prepared));
    const checker = new ShardChecker(DEFAULT_PYTHON, { serve: false, env: ENV });
    const verdict = await checker.check(dir);
    checker.close();
    expect(verdict.ok, verdict.ok ? '' : verdict.error).toBe(true);
    if (verdict.ok) {
      expect(verdict.definitions.assets).toContainEqual(['local', 'tracker', 'transform', 'issues_per_user']);
      expect(verdict.definitions.asset_checks).toContainEqual({ asset: ['local', 'tracker', 'transform', 'stg_issues'], name: 'unique_stg_issues_id' });
    }
  });

  it('parses a project once for many pipelines, and again once a file of it changes', timeout, async () => {
    // The environment's Python behind a wrapper that counts the parses it runs.
    const parses = join(work, 'parses.log');
    const python = join(work, 'python');
    writeFileSync(python, `#!/bin/sh\necho parse >> '${parses}'\nexec '${DEFAULT_PYTHON}' "$@"\n`, { mode: 0o755 });
    const count = () => (existsSync(parses) ? readFileSync(parses, 'utf8').split('\n').filter(Boolean).length : 0);
    const cacheDir = join(work, 'cache-b');
    const manifests = new DbtManifests({ cacheDir, env: ENV });

    const many = await Promise.all(['a', 'b', 'c', 'd'].map((slug) => manifests.withManifests(compiled(`p_${slug}`, project), python)));
    // Four pipelines of two dbt blocks each, one project, one target, no vars: one parse.
    expect(count()).toBe(1);
    expect(new Set(many.flatMap((m) => [m.files[manifestPath('transform')], m.files[manifestPath('test')]])).size).toBe(1);
    // A restarted service reads the cache on disk.
    await new DbtManifests({ cacheDir, env: ENV }).withManifests(compiled('p_e', project), python);
    expect(count()).toBe(1);

    appendFileSync(join(project, 'models', 'staging', 'stg_users.sql'), '\n-- a change\n');
    await manifests.withManifests(compiled('p_a', project), python);
    expect(count()).toBe(2);
    // dbt's own output in the project folder (target/, logs/) is not part of the key.
    mkdirSync(join(project, 'target'), { recursive: true });
    writeFileSync(join(project, 'target', 'run_results.json'), '{}');
    await manifests.withManifests(compiled('p_b', project), python);
    expect(count()).toBe(2);
  });

  it('refuses a project dbt cannot parse with invalid:dbt_project, naming the block field and dbt\'s message', timeout, async () => {
    const broken = join(work, 'broken');
    cpSync(FIXTURE, broken, { recursive: true });
    writeFileSync(join(broken, 'models', 'orphan.sql'), "select * from {{ ref('no_such_model') }}\n");
    const manifests = new DbtManifests({ cacheDir: join(work, 'cache-c'), env: ENV });

    const error = await manifests.withManifests(compiled('broken', broken), DEFAULT_PYTHON).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid:dbt_project');
    // Both blocks name the project; the first in pipeline.json is named.
    expect((error as AppError).message).toMatch(/^blocks\.(test|transform)\.config\.project_dir: dbt could not parse /);
    expect((error as AppError).message).toContain("depends on a node named 'no_such_model' which was not found");
    expect(readdirSync(join(work, 'cache-c'))).toEqual([]);

    const missing = await manifests.withManifests(compiled('missing', join(work, 'nowhere')), DEFAULT_PYTHON).catch((e: unknown) => e);
    expect((missing as AppError).message).toContain(`${join(work, 'nowhere')} holds no dbt_project.yml`);
  });

  it('leaves a pipeline without dbt blocks as it is, running nothing', async () => {
    const manifests = new DbtManifests({ cacheDir: join(work, 'cache-d') });
    const member = { ...compiled('plain', project), files: { 'defs.yaml': '', 'pipeline.json': JSON.stringify({ blocks: { load: { type: 'duckdb_load@1', config: {} } } }) } };
    expect(await manifests.withManifests(member, '/no/python/here')).toBe(member);
  });
});

function writeShard(dir: string, files: ShardFiles): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}
