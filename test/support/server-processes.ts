import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalGroup } from '../../src/process-group.ts';

/**
 * The servers a test process started that are not yet stopped, each with a way to stop it at once.
 * A server registers when it starts and releases its entry when it is stopped in the ordinary way.
 * Whatever is still registered is stopped when the process ends:
 * - on `exit` (vitest ending a worker or the run, an uncaught error, a set-up that threw half way
 *   and left the test nothing to call stop on), and on SIGINT, SIGTERM and SIGHUP (Ctrl-C; vitest
 *   stops a worker with SIGTERM), which would otherwise end the process with no `exit` handler run;
 * - and when the process is killed outright (vitest's watchdog SIGKILLs the workers of a run whose
 *   main process went away): one small reaper shell per process waits for it to die, then runs the
 *   shell form of every entry still registered, newest first, from a script file kept current.
 * The servers run in process groups of their own (they must not get the terminal's Ctrl-C before
 * their owner stops them in order), so nothing else would stop them.
 */
interface Entry {
  stopNow(): void;
  shell: string;
}
const live = new Set<Entry>();
let reaper: { script: string; child: ChildProcess } | null = null;

/**
 * Registers `stopNow` (synchronous) and `shell` (the same in sh, for the reaper); returns the
 * release to call once the server is stopped in the ordinary way.
 */
export function stopOnExit(stopNow: () => void, shell: string): () => void {
  const entry: Entry = { stopNow, shell };
  live.add(entry);
  writeReapScript();
  return () => {
    if (live.delete(entry)) writeReapScript();
  };
}

/** Shell-quotes one word. */
export const sh = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Removes `dir` at exit (in-process or by the reaper); returns the release. */
export function removeOnExit(dir: string, remove: () => void): () => void {
  return stopOnExit(remove, `rm -rf ${sh(dir)}`);
}

export { signalGroup } from '../../src/process-group.ts';

function writeReapScript(): void {
  if (!reaper) {
    const script = join(tmpdir(), `constellation-reap-${process.pid}-${randomBytes(4).toString('hex')}.sh`);
    writeFileSync(script, '');
    const child = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; sh "$0"; rm -f "$0"`, script], { detached: true, stdio: 'ignore' });
    child.unref();
    reaper = { script, child };
    installHandlers();
  }
  writeFileSync(reaper.script, [...live].reverse().map((e) => `${e.shell}\n`).join(''));
}

function stopAll(): void {
  // Newest first: a server goes before the folder it was registered after.
  for (const entry of [...live].reverse()) {
    live.delete(entry);
    try {
      entry.stopNow();
    } catch {
      // Stop the others all the same.
    }
  }
  if (reaper) {
    reaper.child.kill('SIGKILL');
    rmSync(reaper.script, { force: true });
    reaper = null;
  }
}

let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      stopAll();
      // A listener keeps the signal from ending the process. Other listeners (vitest's own, in the
      // main process) end it their way within a moment; if none does, end it as the signal would.
      setTimeout(() => process.exit(128 + constants.signals[signal]), 200);
    });
  }
}

export interface ServerProcess {
  child: ChildProcess;
  /** Why it is not running, once it failed to start or exited; null while it runs. */
  failure(): Error | null;
  /** SIGTERM to its whole group (what it started goes too), SIGKILL after `graceMs`; waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a server in a process group of its own (so its own children go with it), registered with
 * stopOnExit until stopped. A command that cannot be started is a failure() to report, not an
 * uncaught error.
 */
export function spawnServer(command: string, args: string[], options: SpawnOptions & { graceMs?: number } = {}): ServerProcess {
  const child = spawn(command, args, { ...options, detached: true });
  let failure: Error | null = null;
  child.once('error', (error) => (failure ??= error));
  child.once('exit', (code, signal) => (failure ??= new Error(`${command} exited (${signal ?? `code ${code}`})`)));
  // The reaper checks the group leader is still this server (its arguments, which name its own
  // ports and folders) before it kills: by then the group id could have been given to another.
  const release =
    child.pid === undefined
      ? () => undefined
      : stopOnExit(
          () => signalGroup(child.pid, 'SIGKILL'),
          `tr '\\0' ' ' < /proc/${child.pid}/cmdline 2>/dev/null | grep -qF -- ${sh(args.join(' ').slice(0, 200))} && kill -9 -${child.pid}`,
        );
  return {
    child,
    failure: () => failure,
    async stop() {
      release();
      if (child.exitCode !== null || child.signalCode !== null || !signalGroup(child.pid, 'SIGTERM')) return;
      const exited = new Promise((r) => child.once('exit', r));
      const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.graceMs ?? 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
