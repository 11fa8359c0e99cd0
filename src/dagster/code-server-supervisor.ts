import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { watch, type FSWatcher, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { signalGroup } from '../process-group.ts';
import { parseShardName } from './shard-files.ts';
import type { Workspace } from './workspace.ts';
import { grpcEntries, type GrpcEntry } from './workspace-yaml.ts';

/** How one shard's code server is started: a command and its arguments, run in the workspace folder. */
export type CodeServerLaunch = (entry: GrpcEntry, workspace: Workspace) => { command: string; args: string[] };

/**
 * `dagster code-server start` with the environment's Python, serving the shard's module from its
 * folder. Not `dagster api grpc`: that one keeps the code it loaded at start, while a code server
 * loads it again when Dagster reloads the location (measured: a redeploy is seen only this way).
 * Its runs are started with the same Python (--use-python-environment-entry-point).
 */
export const dagsterCodeServer: CodeServerLaunch = (entry, workspace) => ({
  command: workspace.env.python,
  args: [
    '-m', 'dagster', 'code-server', 'start',
    '-h', entry.host, '-p', String(entry.port),
    '-m', `${entry.location}.definitions`, '-d', workspace.locationDir(entry.location),
    '--location-name', entry.location,
    '--use-python-environment-entry-point',
  ],
});

export interface CodeServerSupervisorOptions {
  workspace: Workspace;
  /** The code servers' environment: what Dagster's webserver and daemon have (DAGSTER_HOME, secrets), since runs start under them. */
  env: NodeJS.ProcessEnv;
  launch?: CodeServerLaunch;
  /** Where a code server's output goes (default: this process's). */
  stdio?: (location: string) => StdioOptions;
  /** Called with each code server process as it starts (a test harness registers it to be killed should the harness die). */
  track?: (child: ChildProcess) => void;
  /** One line per start, stop and crash. */
  log?: (line: string) => void;
  /** How often workspace.yaml is read again, should a change escape fs.watch. */
  pollMs?: number;
  /** How long a stopped code server has between SIGTERM and SIGKILL. */
  stopGraceMs?: number;
  /** The first wait before a crashed code server is started again; it doubles per crash, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** A code server the supervisor runs. */
export interface RunningCodeServer extends GrpcEntry {
  pid: number | undefined;
  /** How many times it was started again after it exited on its own. */
  restarts: number;
}

interface Managed {
  entry: GrpcEntry;
  child: ChildProcess | null;
  exited: Promise<void>;
  startedAt: number;
  /** Crashes in a row, each soon after a start: the next restart waits longer. */
  crashes: number;
  restarts: number;
  timer: NodeJS.Timeout | null;
  retired: boolean;
}

// A code server that ran this long before it exited was working: its next crash starts the backoff over.
const STABLE_MS = 30_000;

/**
 * Runs one code server per `grpc_server` entry of an environment's workspace.yaml and keeps them in
 * step with it: a shard that appears gets its server, one that leaves (or moves to another port)
 * loses it, and a server that exits on its own is started again after a backoff. The file is
 * followed with fs.watch (it is replaced by a rename, so the folder is watched) and read again
 * every few seconds all the same. A server is stopped with SIGTERM to its process group (the
 * processes it started for runs and reloads go too) and SIGKILL after a grace period: `dagster
 * code-server start` ignores SIGTERM for 90 s (DAGSTER.md).
 */
export class CodeServerSupervisor {
  private readonly opts: CodeServerSupervisorOptions;
  private readonly managed = new Map<string, Managed>();
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(opts: CodeServerSupervisorOptions) {
    this.opts = opts;
  }

  private get yamlPath(): string {
    return join(this.opts.workspace.dir, 'workspace.yaml');
  }

  /** Starts the code servers workspace.yaml names, and follows it from now on. */
  async start(): Promise<void> {
    mkdirSync(this.opts.workspace.dir, { recursive: true });
    this.watcher = watch(this.opts.workspace.dir, (_event, file) => {
      if (file === 'workspace.yaml') void this.sync();
    });
    this.watcher.on('error', (error) => this.log(`could not watch ${this.opts.workspace.dir} (${error.message}); reading workspace.yaml every ${this.pollMs / 1000} s`));
    this.poll = setInterval(() => void this.sync(), this.pollMs);
    await this.sync();
  }

  /** Brings the running servers in line with workspace.yaml now; resolves when the servers that had to stop have. */
  sync(): Promise<void> {
    // One pass at a time: a server moved to another port must be gone before its successor starts.
    this.syncing = this.syncing.then(() => this.reconcile());
    return this.syncing;
  }

  /** The code servers running now. */
  running(): RunningCodeServer[] {
    return [...this.managed.values()]
      .filter((m) => m.child && m.child.exitCode === null && m.child.signalCode === null)
      .map((m) => ({ ...m.entry, pid: m.child!.pid, restarts: m.restarts }));
  }

  /** Waits until every code server accepts connections on its port, or `timeoutMs` passes; the locations that do not. */
  async untilListening(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let waiting = [...this.managed.values()].map((m) => m.entry);
    while (waiting.length && Date.now() < deadline) {
      const answers = await Promise.all(waiting.map((entry) => accepts(entry)));
      waiting = waiting.filter((_, i) => !answers[i]);
      if (waiting.length) await new Promise((r) => setTimeout(r, 250));
    }
    return waiting.map((e) => e.location);
  }

  /** Stops following workspace.yaml and stops every code server. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    await this.syncing;
    await Promise.all([...this.managed.values()].map((m) => this.retire(m)));
    this.managed.clear();
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map(this.wantedEntries().map((entry) => [entry.location, entry]));
    const leaving = [...this.managed.values()].filter((m) => {
      const entry = wanted.get(m.entry.location);
      return !entry || entry.host !== m.entry.host || entry.port !== m.entry.port;
    });
    for (const m of leaving) this.managed.delete(m.entry.location);
    await Promise.all(leaving.map((m) => this.retire(m)));
    for (const entry of wanted.values()) {
      if (this.managed.has(entry.location) || this.stopped) continue;
      const m: Managed = { entry, child: null, exited: Promise.resolve(), startedAt: 0, crashes: 0, restarts: 0, timer: null, retired: false };
      this.managed.set(entry.location, m);
      this.launch(m);
    }
  }

  /** The grpc_server entries of shards; a missing or unreadable file names none (its writer replaces it whole). */
  private wantedEntries(): GrpcEntry[] {
    let text: string | null = null;
    try {
      text = readFileSync(this.yamlPath, 'utf8');
    } catch {
      return [];
    }
    // Only a shard's name says which module and folder to serve; another name is not ours to start.
    return grpcEntries(text).filter((entry) => parseShardName(entry.location));
  }

  private launch(m: Managed): void {
    const { command, args } = (this.opts.launch ?? dagsterCodeServer)(m.entry, this.opts.workspace);
    const child = spawn(command, args, {
      cwd: this.opts.workspace.dir,
      env: this.opts.env,
      stdio: this.opts.stdio?.(m.entry.location) ?? 'inherit',
      // Its own process group, so that a stop reaches what it started (run workers, reloaded code).
      detached: true,
    });
    m.child = child;
    m.startedAt = Date.now();
    this.opts.track?.(child);
    m.exited = new Promise((resolve) => {
      let done = false;
      const ended = (why: string) => {
        if (done) return;
        done = true;
        resolve();
        this.exitedOnItsOwn(m, child, why);
      };
      child.once('exit', (code, signal) => ended(signal ? `signal ${signal}` : `code ${code}`));
      child.once('error', (error) => ended(error.message));
    });
    this.log(`code server for ${m.entry.location} started on ${m.entry.host}:${m.entry.port} (pid ${child.pid})`);
  }

  private exitedOnItsOwn(m: Managed, child: ChildProcess, why: string): void {
    if (m.retired || m.child !== child || this.stopped) return;
    // What it started (its gRPC worker, which would hold on to the code) goes with it.
    signalGroup(child.pid, 'SIGKILL');
    if (Date.now() - m.startedAt >= STABLE_MS) m.crashes = 0;
    const wait = Math.min(this.opts.maxBackoffMs ?? 30_000, (this.opts.backoffMs ?? 1000) * 2 ** m.crashes);
    m.crashes++;
    this.log(`code server for ${m.entry.location} exited (${why}); starting it again in ${wait} ms`);
    m.timer = setTimeout(() => {
      m.timer = null;
      if (m.retired || this.stopped) return;
      m.restarts++;
      this.launch(m);
    }, wait);
  }

  /** Stops a server for good: SIGTERM to its group, SIGKILL after the grace period; resolves once it has exited. */
  private async retire(m: Managed): Promise<void> {
    m.retired = true;
    if (m.timer) clearTimeout(m.timer);
    const child = m.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || !signalGroup(child.pid, 'SIGTERM')) return;
    const kill = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), this.opts.stopGraceMs ?? 5000);
    await m.exited;
    clearTimeout(kill);
    // The group may outlive its leader (a run worker): it goes too.
    signalGroup(child.pid, 'SIGKILL');
    this.log(`code server for ${m.entry.location} stopped`);
  }

  private get pollMs(): number {
    return this.opts.pollMs ?? 5000;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}

/** Whether something accepts a TCP connection at the entry's host and port. */
function accepts(entry: GrpcEntry): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: entry.host, port: entry.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}
