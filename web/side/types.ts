/** The service's answers the side view reads, as the routes shape them (only the fields it uses). */

/** GET /dagster/pipelines: each pipeline with its latest deployment's status. */
export interface PipelineSummary {
  pipeline_id: string;
  pipeline_name: string;
  /** The latest deployment's status, or `pending` when there is none. */
  status: string;
  last_updated: string;
}

export type DeploymentStatus = 'pending' | 'in_progress' | 'deployed' | 'written' | 'failed';

export interface Deployment {
  id: string;
  pipeline_id: string;
  version: number;
  environment: string;
  status: DeploymentStatus;
  location_name: string;
  message: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface Run {
  run_id: string;
  /** running, completed or failed */
  status: string;
  /** Dagster's own: QUEUED, STARTED, SUCCESS, FAILURE, CANCELED… */
  dagster_status: string;
  job: string;
  environment: string;
  version: number | null;
  started_at: string | null;
  ended_at: string | null;
  url: string;
}

export interface LogEvent {
  type: string;
  level: string | null;
  step: string | null;
  timestamp: string | null;
  message: string | null;
  error: string | null;
}

export interface LogPage {
  run_id: string;
  cursor: string;
  has_more: boolean;
  events: LogEvent[];
}

export interface Environment {
  name: string;
  /** The Dagster UI's base address (the GraphQL URL without /graphql), or null when none is set. */
  dagster_url: string | null;
}
