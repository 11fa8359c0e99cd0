import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_LIBRARY_WHEEL_NAME } from '../../src/dagster/block-library-wheel.ts';
import { writeOnlyEnvironment, createTestApp, type TestApp } from '../support/test-app.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { e2eFolder, until } from './platform.ts';

const run = promisify(execFile);
const LIBRARY = resolve(import.meta.dirname, '../../blocks/python');

/** Why the image cannot be built here, or null when it can: podman builds without a Docker engine (FIELD-NOTES.md, Containers). */
function whyNoPodman(): string | null {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'podman is not installed here (scripts/ensure-test-deps.sh installs it on Debian)';
  }
}
const skipReason = whyNoPodman();

const podman = async (...args: string[]) => (await run('podman', args, { maxBuffer: 64 * 1024 * 1024 })).stdout;

/**
 * Issue 18, Done-means 3b: the image a deploy describes for a cluster builds, and holds the shard,
 * the block library's wheel installed, Dagster and the entry point. No registry can be pulled from
 * and `podman run` fails on these machines (crun setrlimit), so the base image is made locally
 * (test/support/python-rootfs.sh: this machine's Python and a virtualenv) and the image is read
 * with inspect and with files copied out of a created, never started, container.
 */
describe.skipIf(skipReason !== null)(`the image of a shard for a target: kubernetes environment${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let t: TestApp;
  let image: string;
  let container = '';
  let workspaceDir: string;
  let component: string;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    const folder = e2eFolder('constellation-e2e-k8s-image-');
    cleanups.push(folder.remove);
    const { stdout } = await run('bash', [resolve(import.meta.dirname, '../support/python-rootfs.sh')], { maxBuffer: 16 * 1024 * 1024 });
    const baseImage = stdout.trim().split('\n').pop()!;
    const env = writeOnlyEnvironment('production', {
      workspaceDir: join(folder.dir, 'workspace'),
      secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'],
      tableStorage: { url: 's3://lake-values/dagster', endpoint: 'http://garage:3900' },
      kubernetes: { namespace: 'dagster-prod', image: 'localhost/constellation-e2e', baseImage, port: 4000, imagePullPolicy: 'Never', secretName: 'pipeline-secrets' },
    });
    workspaceDir = env.workspaceDir;
    t = await createTestApp('pglite', { environments: [env] });
    cleanups.push(() => t.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  });

  it('is built by the build script the deploy wrote, with podman', async () => {
    const id = (await t.call('POST', '/v1/pipelines', flagshipSpec())).body.id;
    const requested = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'production' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const done = await until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 60_000, 100);
    expect(done.status, JSON.stringify(done)).toBe('written');
    image = /build image (\S+) from/.exec(done.message)![1]!;
    expect(image).toMatch(/^localhost\/constellation-e2e\/local-shard-1:[0-9a-f]{16}$/);
    component = t.services.connections.get('production')!.workspace.componentsIn('local_shard_1')[0]!;
    cleanups.push(() => podman('rmi', '--force', image));

    // The script a team runs, with podman instead of docker; chroot isolation, as this machine allows.
    await run('sh', [join(workspaceDir, 'kubernetes/build-images.sh')], {
      env: { ...process.env, CONTAINER_TOOL: 'podman', BUILDAH_ISOLATION: 'chroot' },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect((await podman('image', 'exists', image)) === '').toBe(true);
  });

  it('runs dagster api grpc on the shard as a non-root user, and tells run launchers its own name', async () => {
    const [inspected] = JSON.parse(await podman('image', 'inspect', image));
    const config = inspected.Config;
    expect(config.Cmd).toEqual(['dagster', 'api', 'grpc', '-h', '0.0.0.0', '-p', '4000', '-m', 'local_shard_1.definitions', '--working-directory', '/opt/constellation/locations/local_shard_1']);
    expect(config.Env).toContain(`DAGSTER_CURRENT_IMAGE=${image}`);
    expect(config.User).toBe('10001:10001');
    expect(Object.keys(config.ExposedPorts)).toEqual(['4000/tcp']);
    expect(config.WorkingDir).toBe('/opt/constellation/locations/local_shard_1');
  });

  it('holds the shard as deployed, the block library installed from its wheel, and Dagster', async () => {
    container = (await podman('create', image)).trim();
    cleanups.push(() => podman('rm', '--force', container));
    const cat = async (path: string) => {
      const { stdout } = await run('sh', ['-c', 'podman cp "$1:$2" - | tar -xOf -', 'sh', container, path], { maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' });
      return stdout as unknown as Buffer;
    };
    const shard = (path: string) => readFileSync(join(workspaceDir, 'locations/local_shard_1', path));
    for (const path of ['requirements.txt', 'pyproject.toml', 'local_shard_1/definitions.py', `local_shard_1/defs/${component}/pipeline.json`, `local_shard_1/defs/${component}/defs.yaml`]) {
      expect((await cat(`/opt/constellation/locations/local_shard_1/${path}`)).equals(shard(path)), path).toBe(true);
    }
    // The wheel, and the library pip installed from it: the same bytes as the library's sources.
    expect((await cat(`/opt/constellation/wheels/${BLOCK_LIBRARY_WHEEL_NAME}`)).equals(readFileSync(join(workspaceDir, 'wheels', BLOCK_LIBRARY_WHEEL_NAME)))).toBe(true);
    const sitePackages = `/opt/venv/lib/python3.${(await cat('/opt/venv/pyvenv.cfg')).toString().match(/version\w* = 3\.(\d+)/)![1]}/site-packages`;
    expect((await cat(`${sitePackages}/constellation_blocks/component.py`)).equals(readFileSync(join(LIBRARY, 'constellation_blocks/component.py')))).toBe(true);
    expect((await cat(`${sitePackages}/constellation_blocks-0.1.0.dist-info/METADATA`)).toString()).toMatch(/^Version: 0\.1\.0$/m);
    expect((await cat(`${sitePackages}/dagster/version.py`)).toString()).toContain('__version__ = "1.13.27"');
    expect((await cat('/opt/venv/bin/dagster')).toString()).toMatch(/^#!\/opt\/venv\/bin\/python/);
  });
});
