import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { until } from '../e2e/platform.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// A deploy parses the dbt project of each dbt block (with the environment's Python, real dbt)
// and writes its manifest into the pipeline's component folder; a project dbt cannot parse fails
// the deployment with dbt's words and changes nothing.
const FIXTURE = resolve(import.meta.dirname, '../../blocks/python/tests/fixtures/dbt_project');

describe('deploying dbt blocks', () => {
  let t: TestApp;
  let work: string;
  let project: string;
  let staging: ReturnType<typeof writeOnlyEnvironment>;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'constellation-dbt-deploys-'));
    project = join(work, 'tracker');
    cpSync(FIXTURE, project, { recursive: true });
    // The environment's Python, with this checkout's block library ahead of the installed one (a worktree's may be newer).
    const python = join(work, 'python');
    writeFileSync(python, `#!/bin/sh\nPYTHONPATH='${resolve(import.meta.dirname, '../../blocks/python')}' exec '${DEFAULT_PYTHON}' "$@"\n`, { mode: 0o755 });
    staging = writeOnlyEnvironment('staging', { python });
    t = await createTestApp('pglite', { environments: [staging], dbtManifestDir: join(work, 'manifests') });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const spec = (name: string, projectDir: string) => ({
    name,
    blocks: [
      { id: 'transform', type: 'dbt_run@1', config: { project_dir: projectDir, command: 'run' } },
      { id: 'test', type: 'dbt_test@1', config: { project_dir: projectDir } },
    ],
    edges: [{ from: { block: 'transform', port: 'models' }, to: { block: 'test', port: 'models' } }],
  });
  const deploy = async (name: string, projectDir: string) => {
    const created = await t.call('POST', '/v1/pipelines', spec(name, projectDir));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const res = await t.call('POST', `/v1/pipelines/${created.body.id}/deployments`, { environment: 'staging' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return until(async () => (await t.call('GET', `/v1/deployments/${res.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 60_000, 100);
  };

  it('writes each dbt block\'s manifest beside pipeline.json', { timeout: 90_000 }, async () => {
    const done = await deploy('tracker models', project);
    expect(done.status, JSON.stringify(done)).toBe('written');
    const dir = join(staging.workspaceDir, 'locations', done.location_name, done.location_name, 'defs', 'tracker_models');
    for (const block of ['transform', 'test']) {
      const manifest = JSON.parse(readFileSync(join(dir, 'dbt', block, 'manifest.json'), 'utf8'));
      expect(Object.keys(manifest.nodes)).toContain('model.tracker.stg_issues');
    }
  });

  it('fails the deployment of a project dbt cannot parse, with dbt\'s message, writing nothing', { timeout: 90_000 }, async () => {
    const broken = join(work, 'broken');
    cpSync(FIXTURE, broken, { recursive: true });
    writeFileSync(join(broken, 'models', 'orphan.sql'), "select * from {{ ref('no_such_model') }}\n");
    const done = await deploy('broken models', broken);
    expect(done.status).toBe('failed');
    expect(done.message).toBe('Version 1 was not deployed; nothing was changed.');
    expect(done.error).toMatch(/^blocks\.(test|transform)\.config\.project_dir: dbt could not parse .*depends on a node named 'no_such_model'/);
    expect(existsSync(join(staging.workspaceDir, 'locations', 'local_shard_1', 'local_shard_1', 'defs', 'broken_models'))).toBe(false);
  });
});
