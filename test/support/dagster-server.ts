import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DAGSTER_YAML } from '../../src/adapters/dagster/instance-config.ts';
import { freePort } from './postgres-server.ts';

export const VENV_BIN = resolve(import.meta.dirname, '../../.venv/bin');

/** A real dagster-webserver and dagster-daemon over one workspace.yaml, with a temp DAGSTER_HOME. */
export interface DagsterServer {
  baseUrl: string;
  graphqlUrl: string;
  home: string;
  /** The processes' output so far, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startDagster(workspaceYaml: string, env: Record<string, string> = {}): Promise<DagsterServer> {
  const home = mkdtempSync(join(tmpdir(), 'constellation-dagster-home-'));
  writeFileSync(join(home, 'dagster.yaml'), DAGSTER_YAML);
  const port = await freePort();
  const processEnv = { ...process.env, ...env, DAGSTER_HOME: home, PYTHONUNBUFFERED: '1' };
  const started: ChildProcess[] = [];
  const start = (name: string, args: string[]) => {
    const out = openSync(join(home, `${name}.log`), 'a');
    const child = spawn(join(VENV_BIN, name), args, { env: processEnv, stdio: ['ignore', out, out], detached: true });
    started.push(child);
    return child;
  };
  start('dagster-webserver', ['-h', '127.0.0.1', '-p', String(port), '-w', workspaceYaml]);
  start('dagster-daemon', ['run', '-w', workspaceYaml]);

  const baseUrl = `http://127.0.0.1:${port}`;
  const logs = () =>
    ['dagster-webserver', 'dagster-daemon'].map((n) => `--- ${n}\n${safeRead(join(home, `${n}.log`)).slice(-4000)}`).join('\n');
  const stop = async () => {
    await Promise.all(started.map((child) => stopProcessGroup(child)));
    rmSync(home, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (started.some((c) => c.exitCode !== null)) break;
    try {
      if ((await fetch(`${baseUrl}/server_info`)).ok) return { baseUrl, graphqlUrl: `${baseUrl}/graphql`, home, logs, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const output = logs();
  await stop();
  throw new Error(`dagster-webserver did not start:\n${output}`);
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Stops a process and everything it started (Dagster runs each step in a child process). */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}
