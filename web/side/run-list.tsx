import { useState } from 'react';
import type { Api } from '../api.ts';
import { runUrl } from './dagster-links.ts';
import { ErrorNote } from './error-note.tsx';
import { pollDelay } from './polling.ts';
import { RunLogs } from './run-logs.tsx';
import { runStatusView } from './status.ts';
import { StatusBadge } from './status-badge.tsx';
import type { Deployment, Run } from './types.ts';
import { usePolling } from './use-polling.ts';

interface Props {
  api: Api;
  pipelineId: string;
  /** Where the runs are read: the environment of the newest deployment. */
  environment: string;
  /** The newest deployment Dagster has loaded: where "Run now" launches. */
  live: Deployment | null;
  uiBase: string | null;
}

/** The pipeline's runs, newest first; opening one shows its logs. */
export function RunList({ api, pipelineId, environment, live, uiBase }: Props) {
  const path = `/v1/pipelines/${encodeURIComponent(pipelineId)}/runs`;
  const { data, error, refresh } = usePolling(
    async () => (await api.get<{ runs: Run[] }>(`${path}?${new URLSearchParams({ environment, limit: '20' })}`)).runs,
    (runs) => pollDelay({ runs }),
    [api, path, environment],
  );
  const runs = data ?? null;
  const [open, setOpen] = useState<string | null>(null);
  const [launching, setLaunching] = useState(false);
  const [launchError, setLaunchError] = useState<unknown>(null);
  // A run just launched shows at once, before the next poll lists it.
  const [launched, setLaunched] = useState<Run | null>(null);

  const runNow = async () => {
    if (!live) return;
    setLaunching(true);
    setLaunchError(null);
    try {
      const run = await api.post<Run>(path, { environment: live.environment });
      setLaunched(run);
      setOpen(run.run_id);
      refresh();
    } catch (e) {
      setLaunchError(e);
    } finally {
      setLaunching(false);
    }
  };

  const shown = runs ?? [];
  const all = launched && !shown.some((r) => r.run_id === launched.run_id) ? [launched, ...shown] : shown;

  return (
    <div className="run-section">
      <div className="row-head">
        <h3>Runs</h3>
        {live ? (
          <button type="button" data-testid="run-now" onClick={runNow} disabled={launching}>
            {launching ? 'Launching…' : `Run now (${live.environment})`}
          </button>
        ) : null}
      </div>
      <ErrorNote error={launchError} />
      <ErrorNote error={error} />
      {!runs && !error ? <p className="side-muted">Asking Dagster for runs…</p> : null}
      {runs && all.length === 0 ? <p className="side-muted">No runs yet.</p> : null}
      <ul className="run-list">
        {all.map((r) => (
          <li key={r.run_id} data-testid="run-row" data-status={r.dagster_status} data-run-id={r.run_id}>
            <div className="row-head">
              <button type="button" className="link-button" onClick={() => setOpen(open === r.run_id ? null : r.run_id)} aria-expanded={open === r.run_id}>
                {r.run_id.slice(0, 8)} · {r.job}
              </button>
              <StatusBadge text={r.dagster_status} view={runStatusView(r.dagster_status)} />
            </div>
            <div className="side-muted">
              {r.started_at ? new Date(r.started_at).toLocaleString() : 'not started'}
              {' · '}
              <a href={uiBase ? runUrl(uiBase, r.run_id) : r.url} target="_blank" rel="noreferrer" data-testid="dagster-link">
                open in Dagster
              </a>
            </div>
            {open === r.run_id ? <RunLogs key={r.run_id} api={api} pipelineId={pipelineId} run={r} /> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
