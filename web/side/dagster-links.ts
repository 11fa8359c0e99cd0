/**
 * Addresses in Dagster's UI. The service knows each environment's UI base (`dagster_url` from
 * GET /v1/environments: the GraphQL URL without /graphql); the paths are the UI's own routes.
 */

/** The base without a trailing slash, or null when the environment has no Dagster. */
export function uiBase(dagsterUrl: string | null | undefined): string | null {
  if (!dagsterUrl) return null;
  return dagsterUrl.replace(/\/graphql\/?$/, '').replace(/\/+$/, '');
}

export const runUrl = (base: string, runId: string) => `${base}/runs/${encodeURIComponent(runId)}`;

/**
 * A code location's page. Our locations define a single unnamed repository (`__repository__`),
 * which Dagster's UI addresses by the location's name alone.
 */
export const locationUrl = (base: string, location: string) => `${base}/locations/${encodeURIComponent(location)}`;

/** The location's jobs, where the pipeline's jobs are listed under their Dagster names. */
export const locationJobsUrl = (base: string, location: string) => `${locationUrl(base, location)}/jobs`;

/** Dagster's run list filtered by the tag every run of the pipeline carries. */
export function pipelineRunsUrl(base: string, pipelineId: string): string {
  const filter = `tag:constellation/pipeline_id=${pipelineId}`;
  return `${base}/runs?${new URLSearchParams([['q[]', filter]]).toString()}`;
}
