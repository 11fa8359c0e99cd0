/**
 * Orgs and users (ownership from day one), the block type catalog with its search document,
 * the core's blocks and edges, and pipelines with immutable versions.
 */
export default /* sql */ `
CREATE TABLE orgs (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id          uuid PRIMARY KEY,
  org_id      uuid NOT NULL REFERENCES orgs (id),
  name        text NOT NULL,
  email       text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- org_id NULL: a built-in block type from blocks/manifests, visible to every org. The summary (what
-- search shows) and the full manifest live in block_type_manifests.
CREATE TABLE block_types (
  slug          text NOT NULL,
  version       integer NOT NULL,
  org_id        uuid REFERENCES orgs (id),
  category      text NOT NULL,
  input_types   text[] NOT NULL DEFAULT '{}',
  output_types  text[] NOT NULL DEFAULT '{}',
  is_latest     boolean NOT NULL DEFAULT true,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (slug, version)
);
CREATE INDEX block_types_category_idx ON block_types (category, slug) WHERE is_latest;

CREATE TABLE block_type_manifests (
  slug      text NOT NULL,
  version   integer NOT NULL,
  summary   jsonb NOT NULL,
  manifest  jsonb NOT NULL,
  PRIMARY KEY (slug, version),
  FOREIGN KEY (slug, version) REFERENCES block_types (slug, version) ON DELETE CASCADE
);

-- Bumped by every catalog write: each instance rebuilds its in-memory search index when it sees a
-- revision it has not indexed, so instances behind a load balancer agree on what search finds.
CREATE TABLE catalog_state (
  id        integer PRIMARY KEY CHECK (id = 1),
  revision  bigint NOT NULL
);
INSERT INTO catalog_state (id, revision) VALUES (1, 0);

CREATE TABLE blocks (
  id                  uuid PRIMARY KEY,
  org_id              uuid NOT NULL REFERENCES orgs (id),
  owner_id            uuid NOT NULL REFERENCES users (id),
  name                text NOT NULL,
  block_type          text NOT NULL,
  block_type_version  integer NOT NULL,
  config              jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (block_type, block_type_version) REFERENCES block_types (slug, version)
);
CREATE INDEX blocks_org_idx ON blocks (org_id, created_at);

CREATE TABLE edges (
  id               uuid PRIMARY KEY,
  org_id           uuid NOT NULL REFERENCES orgs (id),
  owner_id         uuid NOT NULL REFERENCES users (id),
  source_block_id  uuid NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
  source_port      text NOT NULL,
  target_block_id  uuid NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
  target_port      text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_block_id, source_port, target_block_id, target_port)
);
CREATE INDEX edges_source_idx ON edges (source_block_id);
CREATE INDEX edges_target_idx ON edges (target_block_id);

CREATE TABLE pipelines (
  id               uuid PRIMARY KEY,
  org_id           uuid NOT NULL REFERENCES orgs (id),
  owner_id         uuid NOT NULL REFERENCES users (id),
  name             text NOT NULL,
  description      text,
  current_version  integer NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, name)
);

CREATE TABLE pipeline_versions (
  pipeline_id  uuid NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
  version      integer NOT NULL,
  spec         jsonb NOT NULL,
  spec_hash    text NOT NULL,
  -- How this version came to be: a full spec, a JSON patch, or blocks and edges (with the id map).
  origin       jsonb NOT NULL,
  created_by   uuid NOT NULL REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline_id, version)
);

-- A version, once written, never changes: every edit makes a new one.
CREATE FUNCTION pipeline_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'pipeline versions are immutable; write a new version instead';
END $$;
CREATE TRIGGER pipeline_versions_no_update BEFORE UPDATE ON pipeline_versions
  FOR EACH ROW EXECUTE FUNCTION pipeline_versions_immutable();
`;
