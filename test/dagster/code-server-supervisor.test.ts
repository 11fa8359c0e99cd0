import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CodeServerSupervisor, dagsterCodeServer } from '../../src/dagster/code-server-supervisor.ts';
import type { Environment } from '../../src/dagster/environments.ts';
import { Workspace } from '../../src/dagster/workspace.ts';
import { until } from '../e2e/platform.ts';
import { freePortRange } from '../support/port-range.ts';
import { writeOnlyEnvironment } from '../support/test-app.ts';

const STAND_IN = resolve(import.meta.dirname, '../support/stand-in-code-server.ts');

interface Report {
  pid: number;
  worker: number;
  port: number;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Sends "crash" to whatever listens on the port. */
const crash = (port: number) =>
  new Promise<void>((done) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end('crash\n'));
    socket.once('close', () => done());
    socket.once('error', () => done());
  });

/**
 * The supervisor with real processes: a stand-in code server (test/support/stand-in-code-server.ts)
 * per shard, over a real workspace folder changed the way deploys change it.
 */
describe('code server supervisor', () => {
  let supervisor: CodeServerSupervisor | null = null;
  afterEach(async () => {
    await supervisor?.stop();
    supervisor = null;
  });

  const setUp = async (opts: { pollMs?: number } = {}) => {
    const env: Environment = writeOnlyEnvironment('development', { codeServers: 'grpc', grpc: { host: '127.0.0.1', ports: await freePortRange(4) } });
    const workspace = new Workspace(env);
    const report = (location: string) => join(workspace.dir, `${location}.report.json`);
    const lines: string[] = [];
    supervisor = new CodeServerSupervisor({
      workspace,
      env: process.env,
      launch: (entry) => ({ command: process.execPath, args: [STAND_IN, report(entry.location), String(entry.port)] }),
      stdio: () => 'ignore',
      log: (line) => lines.push(line),
      stopGraceMs: 300,
      backoffMs: 200,
      ...opts,
    });
    const deploy = (name: string) => workspace.swapIn(name, workspace.stage(name, { 'pyproject.toml': '', [`${name}/definitions.py`]: '' })).commit();
    /** The stand-in's report once one listens for `location` (a restart writes a new one). */
    const listening = async (location: string, not?: number): Promise<Report> => {
      const read = async () => (existsSync(report(location)) ? (JSON.parse(readFileSync(report(location), 'utf8')) as Report) : null);
      const found = await until(read, (r) => r !== null && r.pid !== not && alive(r.pid), 20_000, 100);
      expect(found, lines.join('\n')).not.toBeNull();
      expect(found!.pid).not.toBe(not);
      return found!;
    };
    return { env, workspace, report, deploy, listening, lines, supervisor };
  };

  it('starts one code server per shard that workspace.yaml names, on its port', async () => {
    const { workspace, deploy, listening, supervisor } = await setUp();
    deploy('acme_shard_1');
    deploy('beta_shard_1');
    await supervisor.start();
    const [acme, beta] = [await listening('acme_shard_1'), await listening('beta_shard_1')];
    const { from } = workspace.env.grpc!.ports;
    expect([acme.port, beta.port]).toEqual([from, from + 1]);
    expect(supervisor.running().map(({ location, port, pid }) => ({ location, port, pid }))).toEqual([
      { location: 'acme_shard_1', port: from, pid: acme.pid },
      { location: 'beta_shard_1', port: from + 1, pid: beta.pid },
    ]);
    expect(await supervisor.untilListening(5000)).toEqual([]);
  });

  it('follows workspace.yaml: a new shard gets a server, one that leaves loses it (and what it started)', async () => {
    const { workspace, deploy, listening, supervisor } = await setUp();
    await supervisor.start();
    expect(supervisor.running()).toEqual([]);
    deploy('acme_shard_1');
    const first = await listening('acme_shard_1');
    deploy('acme_shard_2');
    await listening('acme_shard_2');

    workspace.removeLocation('acme_shard_1');
    await until(async () => alive(first.pid) || alive(first.worker), (up) => !up, 10_000, 100);
    expect(alive(first.pid)).toBe(false);
    expect(alive(first.worker)).toBe(false);
    expect(supervisor.running().map((s) => s.location)).toEqual(['acme_shard_2']);
  });

  it('moves a server to the port workspace.yaml gives it now', async () => {
    const { env, deploy, listening, supervisor } = await setUp();
    deploy('acme_shard_1');
    await supervisor.start();
    const before = await listening('acme_shard_1');
    // The range narrowed: the shard's port is given anew.
    const narrowed = new Workspace({ ...env, grpc: { host: '127.0.0.1', ports: { from: env.grpc!.ports.from + 2, to: env.grpc!.ports.to } } });
    narrowed.writeWorkspaceYaml();
    const after = await listening('acme_shard_1', before.pid);
    expect(after.port).toBe(env.grpc!.ports.from + 2);
    expect(alive(before.pid)).toBe(false);
  });

  it('starts a server that crashed again, waiting longer after each crash in a row', async () => {
    const { deploy, listening, lines, supervisor } = await setUp();
    deploy('acme_shard_1');
    await supervisor.start();
    const first = await listening('acme_shard_1');
    await crash(first.port);
    const second = await listening('acme_shard_1', first.pid);
    // What the crashed one started is gone with it.
    await until(async () => alive(first.worker), (up) => !up, 5000, 100);
    expect(alive(first.worker)).toBe(false);
    await crash(second.port);
    await listening('acme_shard_1', second.pid);
    expect(supervisor.running()[0]!.restarts).toBe(2);
    const waits = lines.filter((l) => l.includes('exited')).map((l) => Number(/again in (\d+) ms/.exec(l)![1]));
    expect(waits).toEqual([200, 400]);
  });

  it('reads workspace.yaml again every poll, without fs.watch', async () => {
    const { deploy, listening, supervisor } = await setUp({ pollMs: 300 });
    await supervisor.start();
    // As if the watch had missed it: the folder is watched, but only polls are left to see this.
    (supervisor as unknown as { watcher: { close(): void } }).watcher.close();
    deploy('acme_shard_1');
    await listening('acme_shard_1');
  });

  it('stops every server on stop, with SIGKILL for one that ignores SIGTERM, and starts none after', async () => {
    const { deploy, listening, supervisor } = await setUp();
    deploy('acme_shard_1');
    await supervisor.start();
    const server = await listening('acme_shard_1');
    await supervisor.stop();
    expect(alive(server.pid)).toBe(false);
    expect(alive(server.worker)).toBe(false);
    deploy('acme_shard_2');
    await supervisor.sync();
    expect(supervisor.running()).toEqual([]);
  });

  it('starts Dagster\'s code server with the environment\'s Python, serving the shard\'s module from its folder', () => {
    const workspace = new Workspace(writeOnlyEnvironment('development', { python: '/opt/envs/dev/bin/python' }));
    expect(dagsterCodeServer({ location: 'acme_shard_1', host: '127.0.0.1', port: 4100 }, workspace)).toEqual({
      command: '/opt/envs/dev/bin/python',
      args: [
        '-m', 'dagster', 'code-server', 'start', '-h', '127.0.0.1', '-p', '4100', '-m', 'acme_shard_1.definitions',
        '-d', workspace.locationDir('acme_shard_1'), '--location-name', 'acme_shard_1', '--use-python-environment-entry-point',
      ],
    });
  });
});
