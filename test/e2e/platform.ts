import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { DEFAULT_PYTHON, type Environment } from '../../src/dagster/environments.ts';
import { startClickHouse, type ClickHouseServer } from '../support/clickhouse-server.ts';
import { startDagster, type DagsterServer } from '../support/dagster-server.ts';
import { Workspace } from '../../src/dagster/workspace.ts';
import { freePortRange } from '../support/port-range.ts';
import { removeOnExit } from '../support/server-processes.ts';
import type { TestApp } from '../support/test-app.ts';


/**
 * Everything the seed 003 pipeline touches, real: a source PostgreSQL database with a customers
 * table, a ClickHouse server, and a Dagster webserver + daemon serving an environment's workspace.
 */
export interface Platform {
  source: pg.Client;
  sourceUrl: string;
  /** SOURCE_DB_URL as Dagster's processes have it: sourceUrl, with `sourcePassword` when one was asked for. */
  sourceSecret: string;
  clickhouse: ClickHouseServer;
  dagster: DagsterServer;
  environment: Environment;
  stop(): Promise<void>;
}

export async function startPlatform(
  opts: {
    customers?: number;
    /** The environment's policy (default: no approval needed, destructive tools allowed). */
    policy?: Environment['policy'];
    /** A password for SOURCE_DB_URL, for a test to look for; the test server trusts every login. Ignored when the server's URL has a password of its own. */
    sourcePassword?: string;
    /** grpc: the environment says code_servers: grpc, and its shards' code servers run beside Dagster (as npm run dagster runs them). */
    codeServers?: 'files' | 'grpc';
  } = {},
): Promise<Platform> {
  // What is started so far, stopped in reverse if a later step fails: the caller gets no platform
  // to stop then, and a server left running would outlive the test run.
  const started: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
  };
  try {
    const sourceUrl = await createDatabase('source');
    const source = new pg.Client({ connectionString: sourceUrl });
    await source.connect();
    started.push(() => source.end());
    await source.query(`CREATE TABLE customers (
      id bigint PRIMARY KEY, name text NOT NULL, email text, score double precision,
      created_at timestamp NOT NULL, updated_at timestamp NOT NULL)`);
    const n = opts.customers ?? 10;
    // Distinct, whole-second timestamps in the past: ClickHouse 18.16 keeps seconds only.
    await source.query(
      `INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com', i * 1.5,
         timestamp '2026-01-01 00:00:00' + i * interval '1 hour', timestamp '2026-01-01 00:00:00' + i * interval '1 hour'
       FROM generate_series(1, $1) AS i`,
      [n],
    );

    const secretUrl = new URL(sourceUrl);
    if (opts.sourcePassword && !secretUrl.password) secretUrl.password = opts.sourcePassword;
    const sourceSecret = secretUrl.toString();

    const clickhouse = await startClickHouse();
    started.push(() => clickhouse.stop());
    const workspaceDir = mkdtempSync(join(tmpdir(), 'constellation-e2e-ws-'));
    const removeWorkspace = () => rmSync(workspaceDir, { recursive: true, force: true });
    const releaseWorkspace = removeOnExit(workspaceDir, removeWorkspace);
    started.push(async () => {
      releaseWorkspace();
      removeWorkspace();
    });
    writeFileSync(join(workspaceDir, 'workspace.yaml'), 'load_from: []\n');
    const environment: Environment = {
      name: 'development',
      workspaceDir,
      graphqlUrl: null,
      secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'],
      python: DEFAULT_PYTHON,
      policy: opts.policy ?? { approval_required_for_model_deploys: false, allow_destructive: true },
      ...(opts.codeServers === 'grpc' ? { codeServers: 'grpc' as const, grpc: { host: '127.0.0.1', ports: await freePortRange(5) } } : {}),
    };
    // The secrets live where the code runs: in Dagster's environment (and its code servers'), under the names the blocks use.
    const dagster = await startDagster(
      join(workspaceDir, 'workspace.yaml'),
      { SOURCE_DB_URL: sourceSecret, WAREHOUSE_URL: clickhouse.url },
      opts.codeServers === 'grpc' ? { codeServers: new Workspace(environment) } : {},
    );
    started.push(() => dagster.stop());
    environment.graphqlUrl = dagster.graphqlUrl;
    return { source, sourceUrl, sourceSecret, clickhouse, dagster, environment, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** A new, empty database in the test run's PostgreSQL, named `<prefix>_<random>`; its URL. */
export async function createDatabase(prefix: string): Promise<string> {
  const admin = new pg.Client({ connectionString: inject('postgresUrl') });
  await admin.connect();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

/** Polls `read` until `done` holds or `ms` pass; returns the last value read. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 180_000, every = 500): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, every));
    value = await read();
  }
  return value;
}

/** Launches the pipeline's default job through the API and waits for the run to end; the pipeline's status then, whatever the run's outcome. */
export async function launchAndWait(t: TestApp, pipelineId: string): Promise<any> {
  const launched = await t.call('POST', `/v1/pipelines/${pipelineId}/runs`, {});
  expect(launched.status, JSON.stringify(launched.body)).toBe(201);
  return until(
    async () => (await t.call('GET', `/dagster/pipelines/${pipelineId}/status/`)).body,
    (s) => s.run?.run_id === launched.body.run_id && s.status !== 'running',
  );
}

/** Launches the pipeline's default job through the API and waits for the run to end; expects it completed. */
export async function runToEnd(t: TestApp, platform: Platform, pipelineId: string): Promise<any> {
  const status = await launchAndWait(t, pipelineId);
  expect(status.status, `${JSON.stringify(status)}\n${platform.dagster.logs()}`).toBe('completed');
  return status;
}

/**
 * A temp folder for one end-to-end test, removed when `remove` is called or the test process exits:
 * the given subfolders, and workspace/workspace.yaml with no location yet.
 */
/** Deploys the pipeline's current version to "development" through REST and waits until the deployment settles. */
export async function deployToDevelopment(t: TestApp, pipelineId: string): Promise<any> {
  const requested = await t.call('POST', `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development' });
  expect(requested.status, JSON.stringify(requested.body)).toBe(202);
  return until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status));
}

export function e2eFolder(prefix: string, subfolders: string[] = []): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const release = removeOnExit(dir, removeDir);
  for (const sub of ['workspace', ...subfolders]) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'workspace', 'workspace.yaml'), 'load_from: []\n');
  return {
    dir,
    remove() {
      release();
      removeDir();
    },
  };
}

/**
 * A real Dagster webserver and daemon over the folder's workspace, with `secrets` (and `env`) in
 * their environment, and the service's "development" environment that deploys there.
 */
export async function startDagsterFor(dir: string, secrets: Record<string, string>, env: Record<string, string> = {}): Promise<{ dagster: DagsterServer; environment: Environment }> {
  const dagster = await startDagster(join(dir, 'workspace', 'workspace.yaml'), { ...secrets, ...env });
  const environment: Environment = {
    name: 'development',
    workspaceDir: join(dir, 'workspace'),
    graphqlUrl: dagster.graphqlUrl,
    secrets: Object.keys(secrets),
    python: DEFAULT_PYTHON,
    policy: { approval_required_for_model_deploys: false, allow_destructive: true },
  };
  return { dagster, environment };
}
