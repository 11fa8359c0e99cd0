/**
 * Deployments: a pipeline version placed into an environment. A worker claims one by taking a
 * lease (owner + expiry) and renews it while it works; a lease that expires means its worker died,
 * and another worker resumes the deployment (or fails it after too many tries).
 */
export default /* sql */ `
CREATE TABLE deployments (
  id                uuid PRIMARY KEY,
  org_id            uuid NOT NULL REFERENCES orgs (id),
  pipeline_id       uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
  version           integer NOT NULL,
  environment       text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'in_progress', 'deployed', 'written', 'failed')),
  location_name     text NOT NULL,
  content_hash      text,
  message           text,
  error             text,
  requested_by      uuid NOT NULL REFERENCES users (id),
  request_id        text,
  lease_owner       text,
  lease_expires_at  timestamptz,
  attempts          integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz,
  FOREIGN KEY (pipeline_id, version) REFERENCES pipeline_versions (pipeline_id, version)
);
CREATE INDEX deployments_open_idx ON deployments (created_at) WHERE status IN ('pending', 'in_progress');
CREATE INDEX deployments_pipeline_idx ON deployments (pipeline_id, environment, created_at DESC);
`;
