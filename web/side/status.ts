/**
 * How the side view shows statuses. The text shown is always the API's own word (a browser test
 * and a person comparing with curl read the same thing); the tone and the explanation come from here.
 */
export type Tone = 'ok' | 'busy' | 'bad' | 'idle';

export interface StatusView {
  tone: Tone;
  /** What the word means, for a tooltip. */
  explain: string;
}

const DEPLOYMENT: Record<string, StatusView> = {
  pending: { tone: 'idle', explain: 'Waiting for a worker to deploy it (or never deployed)' },
  in_progress: { tone: 'busy', explain: 'Being written into its code location and checked' },
  written: { tone: 'busy', explain: "Written to the workspace; Dagster has not loaded it yet (is Dagster running?)" },
  deployed: { tone: 'ok', explain: 'Loaded by Dagster' },
  failed: { tone: 'bad', explain: 'The deploy failed; see its error' },
};

export function deploymentStatusView(status: string): StatusView {
  return DEPLOYMENT[status] ?? { tone: 'idle', explain: status };
}

/** Dagster's run statuses that will not change again. */
const FINISHED_RUN = new Set(['SUCCESS', 'FAILURE', 'CANCELED']);

export const isRunFinished = (dagsterStatus: string) => FINISHED_RUN.has(dagsterStatus);

export function runStatusView(dagsterStatus: string): StatusView {
  switch (dagsterStatus) {
    case 'SUCCESS':
      return { tone: 'ok', explain: 'The run succeeded' };
    case 'FAILURE':
      return { tone: 'bad', explain: 'The run failed; open it for its logs' };
    case 'CANCELED':
    case 'CANCELING':
      return { tone: 'bad', explain: 'The run was stopped' };
    case 'QUEUED':
    case 'NOT_STARTED':
    case 'STARTING':
      return { tone: 'idle', explain: 'Waiting to start' };
    default:
      // STARTED, MANAGED and any status a newer Dagster adds: not finished, so show it as moving.
      return { tone: 'busy', explain: 'Running' };
  }
}
