import { useEffect } from 'react';
import type { Api } from '../api.ts';
import { ErrorNote } from './error-note.tsx';
import { FAST_POLL_MS, IDLE_POLL_MS, listInFlight } from './polling.ts';
import { deploymentStatusView } from './status.ts';
import { StatusBadge } from './status-badge.tsx';
import type { PipelineSummary } from './types.ts';
import { usePolling } from './use-polling.ts';

interface Props {
  api: Api;
  selected: string | null;
  onSelect: (id: string) => void;
}

/**
 * The org's pipelines, newest first. Read from the seed's GET /dagster/pipelines, which joins
 * each pipeline's latest deployment status in two store queries (GET /v1/pipelines has no
 * status, and a request per pipeline every few seconds would not scale with the list).
 */
export function PipelineList({ api, selected, onSelect }: Props) {
  const { data, error, refresh } = usePolling(
    () => api.get<{ pipelines: PipelineSummary[] }>('/dagster/pipelines'),
    (d) => (listInFlight(d.pipelines.map((p) => p.status)) ? FAST_POLL_MS : IDLE_POLL_MS),
    [api],
  );
  // The chat selects a pipeline it has just created: list it now rather than at the next tick.
  const unknownSelection = Boolean(selected && data && !data.pipelines.some((p) => p.pipeline_id === selected));
  useEffect(() => {
    if (unknownSelection) refresh();
  }, [unknownSelection, selected, refresh]);
  return (
    <section className="side-block">
      <h2>Pipelines</h2>
      <ErrorNote error={error} />
      {data && data.pipelines.length === 0 ? <p className="side-muted">No pipelines yet: ask the chat to build one.</p> : null}
      <ul className="pipeline-list" data-testid="pipelines">
        {(data?.pipelines ?? []).map((p) => (
          <li key={p.pipeline_id} data-testid="pipeline-row" data-pipeline-id={p.pipeline_id} className={p.pipeline_id === selected ? 'selected' : undefined}>
            <button type="button" onClick={() => onSelect(p.pipeline_id)} aria-pressed={p.pipeline_id === selected}>
              <span className="pipeline-name">{p.pipeline_name}</span>
              <StatusBadge text={p.status} view={deploymentStatusView(p.status)} />
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
