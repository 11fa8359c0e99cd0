import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeOnExit, signalGroup, spawnServer } from './server-processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The project's Node 24 (the `node@24` devDependency), as `npm start` runs the server. */
const NODE = join(ROOT, 'node_modules/.bin/node');

/** One real service process (`node src/server.ts`), answering /health on a loopback port. */
export interface ServiceInstance {
  /** `http://127.0.0.1:<port>`, as the server printed it. */
  url: string;
  pid: number;
  /** Signals the process (its whole group); resolves once it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
  /** Everything it wrote to stdout and stderr so far (with LOG_FORMAT=json, one JSON log line each). */
  logs(): string;
  /** Resolves with the exit code (null when ended by a signal) once it has exited. */
  exited: Promise<number | null>;
}

export interface InstancesOptions {
  /** Shared by all: the one Postgres (DATABASE_URL) and the one Redis (REDIS_URL) they act on together. */
  databaseUrl: string;
  redisUrl: string;
  /** Extra environment for every instance: OPENAI_BASE_URL, DAGSTER_ENVIRONMENTS, DEPLOY_LEASE_SECONDS… */
  env?: Record<string, string>;
  /** How long one may take to answer /health (start-up migrates and loads the catalog). */
  startTimeoutMs?: number;
}

/**
 * Starts `count` service processes side by side, as a load balancer would see them: each on a port
 * of its own (PORT=0: the kernel picks one, so no port chosen here can be taken in between), each
 * with its own DATA_DIR (scratch only: with DATABASE_URL nothing durable lives there), all on one
 * Postgres and one Redis. Each is stopped when the test process ends, whatever ends it.
 */
export async function startInstances(count: number, options: InstancesOptions): Promise<ServiceInstance[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startInstance(i, options)));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw failed.reason;
  }
  return started.map((s) => (s as PromiseFulfilledResult<ServiceInstance>).value);
}

/** Starts one instance; `index` names it in its logs and scratch folder. */
export async function startInstance(index: number, options: InstancesOptions): Promise<ServiceInstance> {
  const dataDir = mkdtempSync(join(tmpdir(), `constellation-instance-${index}-`));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  const releaseDir = removeOnExit(dataDir, removeDir);
  const server = spawnServer(NODE, [join(ROOT, 'src/server.ts')], {
    cwd: ROOT,
    // Only what the service is given here: nothing of the test runner's own environment (a
    // DATABASE_URL or REDIS_URL of the developer's) may leak in.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: options.redisUrl,
      DAGSTER_GRAPHQL_URL: 'none',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.child.stdout!.on('data', (d) => (output += String(d)));
  server.child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= server.stop().then(() => {
      releaseDir();
      removeDir();
    }));
  const pid = server.child.pid!;
  const instance: ServiceInstance = {
    url: '',
    pid,
    async kill(signal) {
      if (server.child.exitCode === null && server.child.signalCode === null) signalGroup(pid, signal);
      await exited;
    },
    stop,
    logs: () => output,
    exited,
  };
  try {
    instance.url = await untilHealthy(() => output, server.failure, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw new Error(`service instance ${index} did not start: ${(error as Error).message}\n${output}`);
  }
  return instance;
}

/** Waits for the "listening on" line, then for /health to answer 200; returns the base URL. */
async function untilHealthy(output: () => string, failure: () => Error | null, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const error = failure();
    if (error) throw error;
    const url = /listening on (http:\/\/\S+)/.exec(output())?.[1];
    if (url && (await fetch(`${url}/health`).then((r) => r.ok, () => false))) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no healthy answer within ${timeoutMs} ms`);
}
