/**
 * Who may do what (issue 15): a role for each user in their org, API keys (only their hashes),
 * the audit log, and approval requests that only a person can answer.
 * (The chat's approvals move onto approval_requests in 0008.)
 */
export default /* sql */ `
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'admin'
  CHECK (role IN ('viewer', 'editor', 'deployer', 'admin'));
-- A user made from a JWT is known by its subject claim (unique per identity provider).
ALTER TABLE users ADD COLUMN external_id text UNIQUE;
ALTER TABLE users ALTER COLUMN role SET DEFAULT 'editor';

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY,
  org_id        uuid NOT NULL REFERENCES orgs (id),
  user_id       uuid NOT NULL REFERENCES users (id),
  -- A person's key acts as that person; an agent's key counts as a model for every approval rule.
  kind          text NOT NULL CHECK (kind IN ('person', 'agent')),
  name          text NOT NULL,
  -- The first characters of the key, to tell keys apart in a list; the key itself is never kept.
  prefix        text NOT NULL,
  key_hash      text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs (id),
  user_id     uuid NOT NULL REFERENCES users (id),
  actor_kind  text NOT NULL,
  surface     text NOT NULL,
  action      text NOT NULL,
  target      jsonb NOT NULL DEFAULT '{}',
  outcome     text NOT NULL,
  provenance  jsonb NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, id DESC);

-- A call a model (or an agent's key) made that waits for a person's yes. The id is shown to the
-- person and to the model; only its hash is kept, so reading the table approves nothing.
CREATE TABLE approval_requests (
  id_hash     text PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs (id),
  user_id     uuid NOT NULL REFERENCES users (id),
  surface     text NOT NULL,
  action      text NOT NULL,
  call_key    text NOT NULL,
  summary     jsonb NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'used')),
  decided_by  uuid REFERENCES users (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX approval_requests_call_idx ON approval_requests (call_key, status);
CREATE INDEX approval_requests_org_idx ON approval_requests (org_id, created_at DESC);

`;
