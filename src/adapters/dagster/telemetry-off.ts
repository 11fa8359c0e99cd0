/**
 * Environment for every Python process of the data stack that we start (webserver, daemon, code
 * servers, load checks): each of these tools reports usage to its vendor unless told not to, which
 * fails on a machine without internet and leaks usage on one with it. Dagster's own dagster.yaml
 * setting alone still uploads queued logs (FIELD-NOTES.md). The block library sets the non-Dagster
 * ones too, for processes started by someone else.
 */
export const TELEMETRY_OFF: Readonly<Record<string, string>> = {
  DAGSTER_DISABLE_TELEMETRY: '1',
  DBT_SEND_ANONYMOUS_USAGE_STATS: 'false',
  RUNTIME__DLTHUB_TELEMETRY: 'false',
  DATAHUB_TELEMETRY_ENABLED: 'false',
};
