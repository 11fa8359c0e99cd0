import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareDagsterHome } from '../../src/adapters/dagster/dagster-home.ts';
import { TELEMETRY_OFF } from '../../src/adapters/dagster/telemetry-off.ts';
import { freePort } from './postgres-server.ts';
import { CodeServerSupervisor } from '../../src/dagster/code-server-supervisor.ts';
import type { Workspace } from '../../src/dagster/workspace.ts';
import { removeOnExit, sh, signalGroup, spawnServer, stopOnExit, type ServerProcess } from './server-processes.ts';

export const VENV_BIN = resolve(import.meta.dirname, '../../.venv/bin');

/** A real dagster-webserver and dagster-daemon over one workspace.yaml, with a temp DAGSTER_HOME. */
export interface DagsterServer {
  baseUrl: string;
  graphqlUrl: string;
  home: string;
  /** Where its runs keep the values passed between assets (CONSTELLATION_TABLE_STORAGE): beside the home, not in it. */
  tableStorage: string;
  /** Process group ids of the webserver and the daemon (each leads its own; their code servers join it). */
  processGroups(): number[];
  /** The processes' output so far, for failure messages. */
  logs(): string;
  /**
   * Stops the daemon and starts a new one, which reads workspace.yaml at once: the running one
   * sees a location added since it started only at its next reload, about a minute later.
   */
  restartDaemon(): Promise<void>;
  /** The code servers of a gRPC environment's shards (`codeServers`), run as npm run dagster runs them; null otherwise. */
  codeServers: CodeServerSupervisor | null;
  stop(): Promise<void>;
}

/**
 * Starts both on a home whose storage is already created (prepareDagsterHome), so they never race
 * to create it. `bin` is where dagster, dagster-webserver and dagster-daemon are (the .venv's).
 * Whatever fails on the way, what was started is stopped before the error is thrown.
 */
export async function startDagster(
  workspaceYaml: string,
  env: Record<string, string> = {},
  opts: {
    bin?: string;
    /** A port the service was told before Dagster started; a free one by default. */
    port?: number;
    /** A gRPC environment's workspace: its shards' code servers run beside the webserver and daemon, with their environment. */
    codeServers?: Workspace;
  } = {},
): Promise<DagsterServer> {
  const bin = opts.bin ?? VENV_BIN;
  const root = mkdtempSync(join(tmpdir(), 'constellation-dagster-'));
  const home = join(root, 'home');
  mkdirSync(home);
  // Registered before the processes, so that at exit they are killed first, then this goes.
  const removeHome = () => rmSync(root, { recursive: true, force: true });
  const releaseHome = removeOnExit(root, removeHome);
  const tableStorage = env.CONSTELLATION_TABLE_STORAGE ?? join(root, 'table-data');
  const processEnv = { ...process.env, ...TELEMETRY_OFF, CONSTELLATION_TABLE_STORAGE: tableStorage, ...env, DAGSTER_HOME: home, PYTHONUNBUFFERED: '1' };
  const started: ServerProcess[] = [];
  let codeServers: CodeServerSupervisor | null = null;
  let codeServerLog: number | null = null;
  const stop = async () => {
    await Promise.all([...started.map((server) => server.stop()), codeServers?.stop()]);
    if (codeServerLog !== null) closeSync(codeServerLog);
    releaseHome();
    removeHome();
  };
  const logs = () =>
    ['dagster-webserver', 'dagster-daemon', ...(opts.codeServers ? ['code-servers'] : [])].map((n) => `--- ${n}\n${safeRead(join(home, `${n}.log`)).slice(-4000)}`).join('\n');
  try {
    await prepareDagsterHome(home, bin, processEnv);
    if (opts.codeServers) {
      const log = openSync(join(home, 'code-servers.log'), 'a');
      codeServerLog = log;
      codeServers = new CodeServerSupervisor({
        workspace: opts.codeServers,
        env: processEnv,
        stdio: () => ['ignore', log, log],
        log: (line) => safeAppend(log, `${line}\n`),
        track: killAtExit,
      });
      await codeServers.start();
    }
    const port = opts.port ?? (await freePort());
    const start = (name: string, args: string[]) => {
      const out = openSync(join(home, `${name}.log`), 'a');
      started.push(spawnServer(join(bin, name), args, { env: processEnv, stdio: ['ignore', out, out] }));
      closeSync(out);
    };
    start('dagster-webserver', ['-h', '127.0.0.1', '-p', String(port), '-w', workspaceYaml]);
    const daemonArgs = ['run', '-w', workspaceYaml];
    start('dagster-daemon', daemonArgs);
    const restartDaemon = async () => {
      await started.splice(1, 1)[0]!.stop();
      start('dagster-daemon', daemonArgs);
      started.splice(1, 0, started.pop()!);
    };
    const baseUrl = `http://127.0.0.1:${port}`;
    await untilServing(baseUrl, started, logs);
    const processGroups = () => started.flatMap((server) => (server.child.pid === undefined ? [] : [server.child.pid]));
    return { baseUrl, graphqlUrl: `${baseUrl}/graphql`, home, tableStorage, processGroups, logs, restartDaemon, codeServers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function untilServing(baseUrl: string, started: ServerProcess[], logs: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const failure = started.map((s) => s.failure()).find(Boolean);
    if (failure) throw new Error(`${failure.message}:\n${logs()}`);
    try {
      if ((await fetch(`${baseUrl}/server_info`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dagster-webserver did not start:\n${logs()}`);
}

/** A code server's process group is killed if the test process ends before the supervisor stops it. */
function killAtExit(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const pid = child.pid;
  // As spawnServer's reaper line: the group is killed only while its leader is still this code server.
  const args = sh(child.spawnargs.slice(1).join(' ').slice(0, 200));
  const release = stopOnExit(() => signalGroup(pid, 'SIGKILL'), `tr '\\0' ' ' < /proc/${pid}/cmdline 2>/dev/null | grep -qF -- ${args} && kill -9 -${pid}`);
  child.once('exit', release);
}

function safeAppend(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // The log is for failure messages only.
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
