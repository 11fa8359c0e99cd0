import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RELOAD_LOCATION, RELOAD_WORKSPACE, WORKSPACE_LOCATIONS } from '../../src/adapters/dagster/documents.ts';
import { DagsterLocations } from '../../src/dagster/dagster-locations.ts';
import { DEFAULT_GRPC_PORTS, loadEnvironments, type Environment } from '../../src/dagster/environments.ts';
import { AppError } from '../../src/errors.ts';
import { SYSTEM_LOCATION, Workspace } from '../../src/dagster/workspace.ts';
import { createTestApp, writeOnlyEnvironment } from '../support/test-app.ts';

const grpcEnvironment = (ports = { from: 4100, to: 4199 }, overrides: Partial<Environment> = {}) =>
  writeOnlyEnvironment('development', { python: '/opt/envs/dev/bin/python', codeServers: 'grpc', grpc: { host: '127.0.0.1', ports }, ...overrides });

const entriesOf = (workspace: Workspace) => parseYaml(readFileSync(join(workspace.dir, 'workspace.yaml'), 'utf8')).load_from as Array<Record<string, any>>;

/** location name → the port workspace.yaml gives its code server. */
const portsOf = (workspace: Workspace) => Object.fromEntries(entriesOf(workspace).flatMap((e) => (e.grpc_server ? [[e.grpc_server.location_name, e.grpc_server.port]] : [])));

/** A shard folder in place, as a deploy's swap leaves it. */
const place = (workspace: Workspace, name: string, file = 'pyproject.toml') => {
  mkdirSync(workspace.locationDir(name), { recursive: true });
  writeFileSync(join(workspace.locationDir(name), file), '');
};

/** A shard staged whole, as a deploy stages it before the swap. */
const staged = (workspace: Workspace, name: string) => workspace.stage(name, { 'pyproject.toml': '', [`${name}/definitions.py`]: '' });

describe('DAGSTER_ENVIRONMENTS: code_servers', () => {
  const load = (yaml: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'constellation-envs-'));
    writeFileSync(join(dir, 'environments.yaml'), yaml);
    return loadEnvironments({ file: join(dir, 'environments.yaml'), dataDir: dir, defaultGraphqlUrl: '' });
  };

  it('serves shards from their files unless an environment says grpc, whose servers default to loopback and ports 4100-4199', () => {
    const envs = load('environments:\n  development: {workspace_dir: ws}\n  staging: {workspace_dir: st, code_servers: grpc}\n  production: {workspace_dir: prod, code_servers: grpc, grpc: {host: 10.0.0.5, ports: {from: 5000, to: 5009}}}\n');
    expect(envs.get('development')).toMatchObject({ codeServers: 'files' });
    expect(envs.get('development')!.grpc).toBeUndefined();
    expect(envs.get('staging')).toMatchObject({ codeServers: 'grpc', grpc: { host: '127.0.0.1', ports: DEFAULT_GRPC_PORTS } });
    expect(DEFAULT_GRPC_PORTS).toEqual({ from: 4100, to: 4199 });
    expect(envs.get('production')).toMatchObject({ codeServers: 'grpc', grpc: { host: '10.0.0.5', ports: { from: 5000, to: 5009 } } });
    expect(loadEnvironments({ dataDir: '/tmp', defaultGraphqlUrl: '' }).get('development')!.codeServers).toBe('files');
  });

  it('refuses a bad value, a backwards or out-of-range port range, and grpc settings without code_servers: grpc, naming the field', () => {
    expect(() => load('environments:\n  development: {workspace_dir: ws, code_servers: docker}\n')).toThrow(/\/environments\/development\/code_servers/);
    expect(() => load('environments:\n  development: {workspace_dir: ws, code_servers: grpc, grpc: {ports: {from: 4200, to: 4100}}}\n')).toThrow(
      /\/environments\/development\/grpc\/ports: from must not be greater than to/,
    );
    expect(() => load('environments:\n  development: {workspace_dir: ws, code_servers: grpc, grpc: {ports: {from: 0, to: 70000}}}\n')).toThrow(/\/environments\/development\/grpc\/ports\/from/);
    expect(() => load('environments:\n  development: {workspace_dir: ws, code_servers: grpc, grpc: {port: 4000}}\n')).toThrow(/\/environments\/development\/grpc/);
    expect(() => load('environments:\n  development: {workspace_dir: ws, grpc: {host: 127.0.0.1}}\n')).toThrow(/\/environments\/development\/grpc: grpc is used only with code_servers: grpc/);
  });
});

describe('workspace.yaml of a gRPC environment', () => {
  it('names each shard by host and port, and leaves the system location and a location deployed before shards loaded from files', () => {
    const workspace = new Workspace(grpcEnvironment());
    place(workspace, 'acme_shard_1');
    place(workspace, 'beta_shard_1');
    place(workspace, 'pipeline_0123456789ab', 'definitions.py');
    workspace.writeWorkspaceYaml();
    expect(entriesOf(workspace)).toEqual([
      { python_module: { module_name: 'constellation_blocks.system_location', location_name: SYSTEM_LOCATION, executable_path: '/opt/envs/dev/bin/python' } },
      { grpc_server: { host: '127.0.0.1', port: 4100, location_name: 'acme_shard_1' } },
      { grpc_server: { host: '127.0.0.1', port: 4101, location_name: 'beta_shard_1' } },
      {
        python_file: {
          relative_path: 'locations/pipeline_0123456789ab/definitions.py',
          working_directory: 'locations/pipeline_0123456789ab',
          location_name: 'pipeline_0123456789ab',
          executable_path: '/opt/envs/dev/bin/python',
        },
      },
    ]);
  });

  it('keeps every shard on its port as shards come and go, and across a restart; a new shard takes the lowest free port', () => {
    const env = grpcEnvironment();
    const workspace = new Workspace(env);
    for (const name of ['acme_shard_1', 'acme_shard_2', 'acme_shard_3']) workspace.swapIn(name, staged(workspace, name)).commit();
    expect(portsOf(workspace)).toEqual({ acme_shard_1: 4100, acme_shard_2: 4101, acme_shard_3: 4102 });

    workspace.removeLocation('acme_shard_1');
    expect(portsOf(workspace)).toEqual({ acme_shard_2: 4101, acme_shard_3: 4102 });
    // A shard sorting before the others does not push them along: it takes the port that was freed.
    workspace.swapIn('aaa_shard_1', staged(workspace, 'aaa_shard_1')).commit();
    expect(portsOf(workspace)).toEqual({ aaa_shard_1: 4100, acme_shard_2: 4101, acme_shard_3: 4102 });

    // A service (or npm run dagster) started again reads the ports back from workspace.yaml.
    const restarted = new Workspace({ ...env });
    restarted.swapIn('zed_shard_1', staged(restarted, 'zed_shard_1')).commit();
    expect(portsOf(restarted)).toEqual({ aaa_shard_1: 4100, acme_shard_2: 4101, acme_shard_3: 4102, zed_shard_1: 4103 });
  });

  it('gives a shard a port anew when the range no longer holds the one it had', () => {
    const workspace = new Workspace(grpcEnvironment({ from: 4100, to: 4101 }));
    workspace.swapIn('acme_shard_1', staged(workspace, 'acme_shard_1')).commit();
    workspace.swapIn('acme_shard_2', staged(workspace, 'acme_shard_2')).commit();
    const moved = new Workspace(grpcEnvironment({ from: 4101, to: 4105 }, { workspaceDir: workspace.dir }));
    moved.writeWorkspaceYaml();
    expect(portsOf(moved)).toEqual({ acme_shard_1: 4102, acme_shard_2: 4101 });
  });

  it('refuses a shard the range has no port for, naming grpc.ports, and changes nothing', () => {
    const workspace = new Workspace(grpcEnvironment({ from: 4100, to: 4100 }));
    workspace.swapIn('acme_shard_1', staged(workspace, 'acme_shard_1')).commit();
    const before = readFileSync(join(workspace.dir, 'workspace.yaml'), 'utf8');
    const second = staged(workspace, 'acme_shard_2');
    let error: unknown;
    try {
      workspace.swapIn('acme_shard_2', second);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'conflict:grpc_ports_exhausted', kind: 'conflict', issues: [{ path: '/grpc/ports' }] });
    expect((error as AppError).message).toContain('grpc.ports (4100-4100) holds 1');
    expect((error as AppError).hint).toMatch(/Widen grpc.ports/);
    expect(readFileSync(join(workspace.dir, 'workspace.yaml'), 'utf8')).toBe(before);
    expect(existsSync(second)).toBe(true);
    expect(workspace.hasLocation('acme_shard_2')).toBe(false);
    // The shard in place is still served, on its port.
    expect(portsOf(workspace)).toEqual({ acme_shard_1: 4100 });
  });

  it('takes the files layout back when the environment returns to code_servers: files', () => {
    const workspace = new Workspace(grpcEnvironment());
    place(workspace, 'acme_shard_1');
    workspace.writeWorkspaceYaml();
    const files = new Workspace({ ...workspace.env, codeServers: 'files' });
    files.writeWorkspaceYaml();
    expect(entriesOf(files)[1]).toEqual({
      python_module: { module_name: 'acme_shard_1.definitions', working_directory: files.locationDir('acme_shard_1'), location_name: 'acme_shard_1', executable_path: '/opt/envs/dev/bin/python' },
    });
  });
});

describe('reloading a location whose code server does not answer yet', () => {
  const UNREACHABLE = {
    __typename: 'PythonError',
    message: 'dagster._core.errors.DagsterUserCodeUnreachableError: Could not reach user code server. gRPC Error code: UNAVAILABLE\n',
    errorChain: [{ error: { message: 'grpc._channel._InactiveRpcError: status = StatusCode.UNAVAILABLE' } }],
  };
  /** A GraphQL client answering as a webserver does (text seen from 1.13.27) while the shard's code server starts: unreachable `failures` times, then loaded. */
  const webserver = (failures: number, otherError?: string) => {
    const asked: string[] = [];
    let reloads = 0;
    const entry = () => ({
      name: 'acme_shard_1',
      loadStatus: 'LOADED',
      locationOrLoadError: otherError ? { __typename: 'PythonError', message: otherError } : reloads <= failures ? UNREACHABLE : { __typename: 'RepositoryLocation' },
    });
    const client = {
      async request(document: string) {
        if (document === RELOAD_WORKSPACE) {
          asked.push('reloadWorkspace');
          reloads++;
          return { reloadWorkspace: { __typename: 'Workspace', locationEntries: [entry()] } };
        }
        if (document === RELOAD_LOCATION) {
          asked.push('reloadRepositoryLocation');
          reloads++;
          return { reloadRepositoryLocation: { __typename: 'WorkspaceLocationEntry', ...entry() } };
        }
        if (document === WORKSPACE_LOCATIONS) return { workspaceOrError: { __typename: 'Workspace', locationEntries: [entry()] } };
        throw new Error('unexpected document');
      },
    };
    return { client: client as unknown as ConstructorParameters<typeof DagsterLocations>[0], asked };
  };

  it('asks again until the new shard\'s code server answers', async () => {
    const { client, asked } = webserver(2);
    expect(await new DagsterLocations(client, { pollMs: 10, unreachableMs: 10_000 }).load('acme_shard_1', { wholeWorkspace: true })).toEqual({ ok: true });
    expect(asked).toEqual(['reloadWorkspace', 'reloadRepositoryLocation', 'reloadRepositoryLocation']);
  });

  it('gives up after the wait with an error that says where the code servers come from', async () => {
    const { client } = webserver(Infinity);
    const outcome = await new DagsterLocations(client, { pollMs: 10, unreachableMs: 1500 }).load('acme_shard_1');
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toMatch(/^The code server of acme_shard_1 did not answer within 2 s \(dagster\._core\.errors\.DagsterUserCodeUnreachableError: .*\)\. With code_servers: grpc, npm run dagster runs one code server per shard/);
  });

  it('reports any other load error at once, as Dagster words it', async () => {
    const { client, asked } = webserver(0, 'ModuleNotFoundError: No module named acme_shard_1');
    expect(await new DagsterLocations(client, { pollMs: 10, unreachableMs: 10_000 }).load('acme_shard_1')).toEqual({ ok: false, error: 'ModuleNotFoundError: No module named acme_shard_1' });
    expect(asked).toEqual(['reloadRepositoryLocation']);
  });
});

describe('GET /v1/environments', () => {
  it('says how each environment serves its shards, and where its code servers listen', async () => {
    const t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development'), grpcEnvironment({ from: 5000, to: 5009 }, { name: 'staging' })] });
    try {
      const listed = (await t.call('GET', '/v1/environments')).body.environments;
      expect(listed.find((e: any) => e.name === 'development')).toMatchObject({ code_servers: 'files', grpc: null });
      expect(listed.find((e: any) => e.name === 'staging')).toMatchObject({ code_servers: 'grpc', grpc: { host: '127.0.0.1', ports: { from: 5000, to: 5009 } } });
    } finally {
      await t.close();
    }
  });
});
