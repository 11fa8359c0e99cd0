import { locationJobsUrl, pipelineRunsUrl } from './dagster-links.ts';

interface Props {
  uiBase: string | null;
  pipelineId: string;
  location: string;
  environment: string;
}

/** Where to look in Dagster's own UI: the pipeline's jobs in its code location, and all its runs. */
export function DagsterLinks({ uiBase, pipelineId, location, environment }: Props) {
  if (!uiBase) {
    return <p className="side-muted">No Dagster UI is configured for {environment} (graphql_url in DAGSTER_ENVIRONMENTS).</p>;
  }
  return (
    <p className="dagster-links">
      Dagster:{' '}
      <a href={locationJobsUrl(uiBase, location)} target="_blank" rel="noreferrer" data-testid="dagster-link">
        jobs in {location}
      </a>
      {' · '}
      <a href={pipelineRunsUrl(uiBase, pipelineId)} target="_blank" rel="noreferrer" data-testid="dagster-link">
        all runs
      </a>
    </p>
  );
}
