import type { BlockRow, EdgeRow } from '../pipelines/block-repo.ts';
import type { PipelineView } from '../pipelines/pipeline-service.ts';

/** Rows as the API shows them: ISO timestamps, "slug@version" references. */
export const iso = (d: Date) => d.toISOString();

export const blockResponse = (b: BlockRow) => ({
  id: b.id,
  name: b.name,
  block_type: `${b.block_type}@${b.block_type_version}`,
  config: b.config,
  owner_id: b.owner_id,
  org_id: b.org_id,
  created_at: iso(b.created_at),
  updated_at: iso(b.updated_at),
});

export const edgeResponse = (e: EdgeRow) => ({
  id: e.id,
  source_block_id: e.source_block_id,
  source_port: e.source_port,
  target_block_id: e.target_block_id,
  target_port: e.target_port,
  owner_id: e.owner_id,
  org_id: e.org_id,
  created_at: iso(e.created_at),
});

export const pipelineResponse = ({ pipeline, version, versions }: PipelineView) => ({
  id: pipeline.id,
  name: pipeline.name,
  description: pipeline.description,
  owner_id: pipeline.owner_id,
  org_id: pipeline.org_id,
  current_version: pipeline.current_version,
  created_at: iso(pipeline.created_at),
  updated_at: iso(pipeline.updated_at),
  version: version.version,
  spec: version.spec,
  spec_hash: version.spec_hash,
  versions: versions.map((v) => ({ version: v.version, spec_hash: v.spec_hash, origin: v.origin, created_by: v.created_by, created_at: iso(v.created_at) })),
});
