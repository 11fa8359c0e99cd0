import { isRunFinished } from './status.ts';

/** While something moves, refresh quickly enough to see it move; otherwise now and then. */
export const FAST_POLL_MS = 2_000;
export const IDLE_POLL_MS = 10_000;

/**
 * A deployment still on its way: queued, being deployed, or written and waiting for Dagster to
 * load it (a `written` deployment becomes `deployed` on its own once Dagster picks it up).
 */
export const deploymentInFlight = (status: string) => status === 'pending' || status === 'in_progress' || status === 'written';

export interface Watched {
  deployments?: readonly { status: string }[];
  runs?: readonly { dagster_status: string }[];
}

export function anythingInFlight({ deployments = [], runs = [] }: Watched): boolean {
  return deployments.some((d) => deploymentInFlight(d.status)) || runs.some((r) => !isRunFinished(r.dagster_status));
}

export const pollDelay = (watched: Watched) => (anythingInFlight(watched) ? FAST_POLL_MS : IDLE_POLL_MS);

/**
 * The pipeline list's statuses come from GET /dagster/pipelines, where `pending` also means
 * "never deployed": counting it as in flight would poll fast forever for every new pipeline.
 */
export const listInFlight = (statuses: readonly string[]) => statuses.some((s) => s === 'in_progress' || s === 'written');
