/**
 * Code repositories compiled into block types (docs/code-repositories.md): each repository's
 * namespace, each compile's outcome, each commit's package (its python/ files, shipped into the
 * code locations of pipelines that use it), and retired block type versions.
 */
export default /* sql */ `
-- The namespace prefixes every block type slug of the repository, and block_types' key is
-- (slug, version) across orgs: so a namespace is unique everywhere, not per org.
CREATE TABLE code_repos (
  id          uuid PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs (id),
  repo_url    text NOT NULL,
  namespace   text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, repo_url)
);

CREATE TABLE code_compiles (
  id            uuid PRIMARY KEY,
  org_id        uuid NOT NULL REFERENCES orgs (id),
  requested_by  uuid NOT NULL REFERENCES users (id),
  repo_url      text NOT NULL,
  branch        text NOT NULL,
  status        text NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
  commit        text,
  -- Block type refs ("ns__name@2") this compile registered.
  registered    jsonb NOT NULL DEFAULT '[]',
  -- [{file?, path?, block?, message, hint?}]
  errors        jsonb NOT NULL DEFAULT '[]',
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX code_compiles_org_idx ON code_compiles (org_id, created_at);

-- One row per commit's package (constellation_repo_<ns>_<commit12>): written once, never changed.
CREATE TABLE code_packages (
  package       text PRIMARY KEY,
  org_id        uuid NOT NULL REFERENCES orgs (id),
  repo_id       uuid NOT NULL REFERENCES code_repos (id),
  commit        text NOT NULL,
  -- Path under python/ → file text.
  files         jsonb NOT NULL,
  requirements  text[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- A retired version is skipped by search and by "latest"; a lookup by version still finds it.
ALTER TABLE block_types ADD COLUMN retired_at timestamptz;
`;
