import { useRef, useState } from 'react';
import type { Api } from '../api.ts';
import { ErrorNote } from './error-note.tsx';
import { FAST_POLL_MS } from './polling.ts';
import { isRunFinished } from './status.ts';
import type { LogEvent, LogPage, Run } from './types.ts';
import { usePolling } from './use-polling.ts';

const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };

/** Pages read per refresh: a long log arrives over a few ticks instead of one huge burst. */
const PAGES_PER_TICK = 5;

/**
 * A run's event log, read forward from a cursor so each refresh fetches only what is new; it
 * keeps following while the run is unfinished and stops once it has read a finished run's end.
 */
export function RunLogs({ api, pipelineId, run }: { api: Api; pipelineId: string; run: Run }) {
  const [events, setEvents] = useState<LogEvent[]>([]);
  const cursor = useRef<string | null>(null);
  const finished = isRunFinished(run.dagster_status);
  const { error } = usePolling(
    async () => {
      let more = false;
      for (let page = 0; page < PAGES_PER_TICK; page++) {
        const query = new URLSearchParams({ environment: run.environment, limit: '200', ...(cursor.current ? { cursor: cursor.current } : {}) });
        const answer = await api.get<LogPage>(`/v1/pipelines/${encodeURIComponent(pipelineId)}/runs/${encodeURIComponent(run.run_id)}/logs?${query}`);
        cursor.current = answer.cursor;
        if (answer.events.length) setEvents((before) => [...before, ...answer.events]);
        more = answer.has_more;
        if (!more) break;
      }
      return more;
    },
    (more) => (more ? 0 : finished ? null : FAST_POLL_MS),
    [api, pipelineId, run.run_id, finished],
  );

  return (
    <div className="run-logs" data-testid="run-logs">
      <ErrorNote error={error} />
      {events.length === 0 && !error ? <p className="side-muted">No events yet.</p> : null}
      <ol>
        {events.map((e, i) => (
          <li key={i} className={e.error || e.level === 'ERROR' ? 'log-error' : undefined}>
            <span className="log-time">{e.timestamp ? new Date(e.timestamp).toLocaleTimeString([], TIME) : ''}</span>
            <span className="log-type">{e.type}</span>
            {e.step ? <span className="log-step">{e.step}</span> : null}
            <span className="log-message">{e.error ?? e.message ?? ''}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
