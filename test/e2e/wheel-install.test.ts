import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_LIBRARY_WHEEL_NAME } from '../../src/dagster/block-library-wheel.ts';
import { lakeSpec, triggersSpec } from '../compile/fixtures.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';
import { deployToDevelopment } from './platform.ts';

const run = promisify(execFile);

/**
 * Done-means 1 of issue 18: what the service deploys installs and loads away from it. Pipelines are
 * deployed through the REST API to an environment with no Dagster (its files are only written);
 * then a virtualenv made from scratch with the system's python3 gets the shard's requirements.txt
 * from PyPI and the workspace's wheels folder, nothing of this checkout's .venv, and Dagster's own
 * CLI loads the shard there.
 */
describe('a shard installed into a fresh virtualenv', () => {
  let t: TestApp;
  let scratch: string;
  let venv: string;
  // Secrets are named, not given: loading a location reads none (dg.EnvVar resolves at run time).
  const env = writeOnlyEnvironment('development', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL', 'LANDING_SECRET', 'LANDING_KEY_ID'] });
  const shardDir = join(env.workspaceDir, 'locations', 'local_shard_1');

  /** A command of the fresh virtualenv, with an environment that cannot reach the project's Python. */
  const venvRun = (command: string, args: string[], cwd: string) =>
    run(join(venv, 'bin', command), args, {
      cwd,
      // pip's download cache is kept: it changes how fast packages arrive, not which.
      env: { PATH: `${join(venv, 'bin')}:/usr/bin:/bin`, HOME: scratch, PIP_CACHE_DIR: process.env.PIP_CACHE_DIR ?? join(homedir(), '.cache', 'pip'), PIP_DISABLE_PIP_VERSION_CHECK: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });

  const pythonVersion = async () => (await venvRun('python', ['-c', 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")'], scratch)).stdout.trim();

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'wheel-install-'));
    venv = join(scratch, 'venv');
    t = await createTestApp('pglite', { environments: [env] });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(env.workspaceDir, { recursive: true, force: true });
  });

  const deploy = async (spec: object) => {
    const created = await t.call('POST', '/v1/pipelines', spec);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const done = await deployToDevelopment(t, created.body.id);
    expect(done.status, JSON.stringify(done)).toBe('written');
  };

  it('deploys the flagship (with its triggers) and a lake pipeline into one shard beside the library wheel', { timeout: 240_000 }, async () => {
    await deploy(triggersSpec());
    await deploy({ ...lakeSpec(), blocks: lakeSpec().blocks.map((b) => (b.type === 's3_files@1' ? { ...b, config: { ...b.config, access_key_id_secret: 'LANDING_KEY_ID' } } : b)) });
    expect(existsSync(join(env.workspaceDir, 'wheels', BLOCK_LIBRARY_WHEEL_NAME))).toBe(true);
    const requirements = readFileSync(join(shardDir, 'requirements.txt'), 'utf8');
    expect(requirements).toContain('--find-links ../../wheels\n-c constraints.txt\n');
    expect(requirements).toContain('constellation-blocks==0.1.0\n');
  });

  it('installs with pip from its requirements.txt alone, the block library from the wheel', { timeout: 600_000 }, async () => {
    await run('python3', ['-m', 'venv', venv]);
    // From another folder: pip reads --find-links and -c relative to the requirements file.
    const report = join(scratch, 'pip-report.json');
    await venvRun('pip', ['install', '-q', '--report', report, '-r', join(shardDir, 'requirements.txt')], scratch);
    const installs = JSON.parse(readFileSync(report, 'utf8')).install as Array<{ metadata: { name: string; version: string }; download_info: { url: string } }>;
    const byName = new Map(installs.map((i) => [i.metadata.name.toLowerCase(), i]));
    // The block library came from the workspace's wheel, not an index; everything else at constraints.txt's versions.
    expect(byName.get('constellation-blocks')?.download_info.url).toBe(`file://${join(env.workspaceDir, 'wheels', BLOCK_LIBRARY_WHEEL_NAME)}`);
    const pins = new Map(readFileSync(join(shardDir, 'constraints.txt'), 'utf8').split('\n').filter((l) => l.includes('==')).map((l) => l.split('==') as [string, string]).map(([n, v]) => [n.toLowerCase().replace(/[-_.]+/g, '-'), v]));
    const offPin = installs.filter((i) => i.metadata.name !== 'constellation-blocks' && pins.get(i.metadata.name.toLowerCase().replace(/[-_.]+/g, '-')) !== i.metadata.version);
    expect(offPin.map((i) => `${i.metadata.name}==${i.metadata.version}`)).toEqual([]);
    const { stdout } = await venvRun(
      'python',
      ['-c', 'import json, importlib.metadata as m, constellation_blocks; print(json.dumps({"file": constellation_blocks.__file__, "version": m.version("constellation-blocks"), "dagster": m.version("dagster")}))'],
      scratch,
    );
    const installed = JSON.parse(stdout);
    expect(installed.file).toBe(join(venv, 'lib', `python${await pythonVersion()}`, 'site-packages', 'constellation_blocks', '__init__.py'));
    expect(installed.version).toBe('0.1.0');
    expect(installed.dagster).toBe('1.13.27');
  });

  it("loads there with `dagster definitions validate`, and lists both pipelines' assets", { timeout: 300_000 }, async () => {
    const target = ['-m', 'local_shard_1.definitions', '-d', shardDir];
    const validated = await venvRun('dagster', ['definitions', 'validate', ...target], scratch);
    expect(`${validated.stdout}${validated.stderr}`).toMatch(/Validation successful/i);
    const listed = (await venvRun('dagster', ['asset', 'list', ...target], scratch)).stdout.split('\n').map((line) => line.trim());
    const prefix = (json: string) => JSON.parse(readFileSync(join(shardDir, 'local_shard_1', 'defs', json, 'pipeline.json'), 'utf8')).namespace.asset_key_prefix.join('/');
    const flagship = prefix('customers_clickhouse');
    const lake = prefix('orders_from_the_lake');
    expect(listed).toEqual(expect.arrayContaining([`${flagship}/extract_customers`, `${flagship}/load_customers`, `${lake}/landing`, `${lake}/parsed`, `${lake}/load`]));
  });
});
