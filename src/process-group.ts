/**
 * Sends `signal` to the process group led by `pid` (a child spawned with `detached: true`), so that
 * what it started goes too; false when there is no such group any more.
 */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
