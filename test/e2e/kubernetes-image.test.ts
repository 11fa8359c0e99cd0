import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_LIBRARY_WHEEL_NAME } from '../../src/dagster/block-library-wheel.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { freePort } from '../support/postgres-server.ts';
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

/** chroot (to run the image's command in its file system) by its path: the command's own PATH is the image's. Root only. */
function chrootPath(): string | null {
  if (process.getuid?.() !== 0) return null;
  try {
    return execFileSync('sh', ['-c', 'command -v chroot'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
const CHROOT = chrootPath();

const podman = async (...args: string[]) => (await run('podman', args, { maxBuffer: 64 * 1024 * 1024 })).stdout;

/**
 * Issue 18, Done-means 3b: the image a deploy describes for a cluster builds, and holds the shard,
 * the block library's wheel installed, Dagster and the entry point. No registry can be pulled from
 * and `podman run` fails on these machines (crun setrlimit), so the base image is made locally
 * (test/support/python-rootfs.sh: this machine's Python and a virtualenv), the image is read
 * with inspect and with files copied out of a created, never started, container, and its command
 * is run in the image's mounted file system with chroot, as the image's user.
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
    // Each step apart: one that fails (a mount still busy) must not leave the container and image
    // behind; then the failures are the test's (a leak here would be left on the machine).
    const failures: string[] = [];
    for (const cleanup of cleanups.reverse()) await (async () => cleanup())().catch((error) => failures.push((error as Error).message));
    if (failures.length) throw new Error(`cleaning up failed: ${failures.join('; ')}`);
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

  it.skipIf(!CHROOT)(`serves the shard with its command: run in the image's file system, it answers the health check and Dagster loads the shard from it over gRPC${CHROOT ? '' : ' (skipped: running it needs chroot, as root)'}`, async () => {
    // The created container's file system (the image's, and writable), with the devices a container
    // runtime would give it (gRPC reads /dev/urandom).
    const root = (await podman('mount', container)).trim();
    cleanups.push(() => podman('unmount', container));
    mkdirSync(join(root, 'dev'), { recursive: true });
    execFileSync('mount', ['--bind', '/dev', join(root, 'dev')]);
    cleanups.push(() => execFileSync('umount', [join(root, 'dev')]));
    const [inspected] = JSON.parse(await podman('image', 'inspect', image));
    const env: Record<string, string> = Object.fromEntries(inspected.Config.Env.map((line: string) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    Object.assign(env, { HOME: '/tmp', DAGSTER_DISABLE_TELEMETRY: '1' });
    // The image's CMD as it is, but for its port: 4000 may be taken on this machine.
    const port = await freePort();
    const command = (inspected.Config.Cmd as string[]).map((arg, i, all) => (all[i - 1] === '-p' ? String(port) : arg));
    const server = spawn(CHROOT!, [`--userspec=${inspected.Config.User}`, root, ...command], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk) => (output += chunk));
    server.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => server.once('exit', resolve));
    // Killed and waited for before /dev is unmounted under it.
    cleanups.push(async () => {
      if (server.exitCode === null) process.kill(-server.pid!, 'SIGKILL');
      await exited;
    });
    const healthy = () =>
      run(CHROOT!, [`--userspec=${inspected.Config.User}`, root, 'dagster', 'api', 'grpc-health-check', '-p', String(port)], { env }).then(
        () => true,
        () => false,
      );
    expect(await until(healthy, (ok) => ok || server.exitCode !== null, 120_000, 1000), output).toBe(true);
    // This service's own Dagster, as a webserver would: it reads the definitions the image's server loaded.
    const dagster = join(dirname(DEFAULT_PYTHON), 'dagster');
    const validated = await run(dagster, ['definitions', 'validate', '--grpc-host', '127.0.0.1', '--grpc-port', String(port)], { env: { ...process.env, DAGSTER_DISABLE_TELEMETRY: '1' } }).catch((e) => e);
    expect(validated.code ?? 0, `${validated.stdout}${validated.stderr}\n${output}`).toBe(0);
    expect(`${validated.stdout}${validated.stderr}`).toMatch(/Validation successful for code location [\s\S]*All code locations passed validation/);
  });
});
