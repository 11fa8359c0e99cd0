import type { Api } from '../api.ts';
import { DagsterLinks } from './dagster-links-view.tsx';
import { DeploymentList } from './deployment-list.tsx';
import { ErrorNote } from './error-note.tsx';
import { pollDelay } from './polling.ts';
import { RunList } from './run-list.tsx';
import { deploymentStatusView } from './status.ts';
import { StatusBadge } from './status-badge.tsx';
import type { Deployment } from './types.ts';
import { usePolling } from './use-polling.ts';

interface Props {
  api: Api;
  pipelineId: string;
  /** Environment name → the Dagster UI's base, where known. */
  uiBases: ReadonlyMap<string, string>;
}

/**
 * One pipeline: its deployments, its runs in the environment it was last deployed to, and links
 * into Dagster. Runs are read apart from deployments: a Dagster that is slow or down must not
 * hold back the deployments' status.
 */
export function PipelineDetail({ api, pipelineId, uiBases }: Props) {
  const base = `/v1/pipelines/${encodeURIComponent(pipelineId)}`;
  // Only the newest deployment decides the pace: an older one left `written` was superseded.
  const { data, error } = usePolling(
    () => api.get<{ deployments: Deployment[] }>(`${base}/deployments`),
    (d) => pollDelay({ deployments: d.deployments.slice(0, 1) }),
    [api, pipelineId],
  );

  const latest = data?.deployments[0];
  // Runs go to the newest version Dagster has loaded, which may be older than a failed newer deploy.
  const live = data?.deployments.find((d) => d.status === 'deployed');
  const uiBase = latest ? uiBases.get(latest.environment) ?? null : null;

  return (
    <section className="side-block pipeline-detail">
      <h2>
        Deployment{' '}
        {latest ? <StatusBadge text={latest.status} view={deploymentStatusView(latest.status)} testId="deployment-status" /> : null}
      </h2>
      <ErrorNote error={error} />
      {!data && !error ? <p className="side-muted">Loading…</p> : null}
      {data && !latest ? <p className="side-muted">Not deployed yet.</p> : null}
      {data ? <DeploymentList deployments={data.deployments} uiBases={uiBases} /> : null}
      {latest ? <DagsterLinks uiBase={uiBase} pipelineId={pipelineId} location={live?.location_name ?? latest.location_name} environment={latest.environment} /> : null}
      {latest ? <RunList key={latest.environment} api={api} pipelineId={pipelineId} environment={latest.environment} live={live ?? null} uiBase={uiBase} /> : null}
    </section>
  );
}
