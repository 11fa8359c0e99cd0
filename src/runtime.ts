import { AppError } from './errors.ts';

/**
 * Where the service runs, and so what it can do. The Node server (npm start) has a local disk,
 * subprocesses and git: it writes code locations into workspaces, checks them with Python and
 * clones code repositories. Cloudflare Workers have none of these (src/worker.ts), so those
 * operations answer there with `unavailable:runtime`, decided here and nowhere else.
 */
export interface Runtime {
  name: 'node' | 'workers';
  /** A local file system, subprocesses and git. */
  local: boolean;
}

export const NODE_RUNTIME: Runtime = { name: 'node', local: true };
export const WORKERS_RUNTIME: Runtime = { name: 'workers', local: false };

/** Throws the clear answer when `what` (e.g. "Deploying a pipeline") needs the Node server and this is not it. */
export function requireLocalRuntime(runtime: Runtime, what: string): void {
  if (runtime.local) return;
  throw new AppError('unavailable:runtime', `${what} runs only on the Node server (npm start): it needs a local disk, subprocesses and git, which Cloudflare Workers do not have.`, {
    hint: 'Send this request to a Node server of this service that shares the same Postgres; reading, editing and validating pipelines works here.',
  });
}
