import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalJsonFile } from '../../src/canonical-json.ts';
import type { Workspace } from '../../src/dagster/workspace.ts';
import { PIPELINE } from '../compile/fixtures.ts';

/** The flagship pipeline's location as the compiler wrote it before shards, for PIPELINE (the block library's own test fixture). */
const FIXTURE = resolve(import.meta.dirname, '../../blocks/python/tests/fixtures/customers_location');

/**
 * The flagship pipeline (test/compile/fixtures.ts flagshipSpec: customers from Postgres into
 * ClickHouse every 6 hours) as deploys wrote it before shards: a code location of its own,
 * locations/pipeline_<hex12>/, a generated definitions.py over a format-1 pipeline.json. These
 * are the old compiler's bytes, made for another pipeline id, name and version.
 */
export function legacyFlagshipFiles(pipeline: { id: string; name: string; version: number }): Record<string, string> {
  const read = (file: string) => readFileSync(resolve(FIXTURE, file), 'utf8');
  const json = JSON.parse(read('pipeline.json'));
  json.pipeline = { ...json.pipeline, id: pipeline.id, name: pipeline.name, version: pipeline.version };
  json.run_tags = { 'constellation/pipeline_id': pipeline.id, 'constellation/pipeline_version': String(pipeline.version) };
  const was = `${PIPELINE.id}, version ${PIPELINE.version}`;
  const now = `${pipeline.id}, version ${pipeline.version}`;
  return { 'definitions.py': read('definitions.py').replace(was, now), 'pipeline.json': canonicalJsonFile(json), 'requirements.txt': read('requirements.txt').replace(was, now) };
}

/** Writes the flagship pipeline's legacy location into a workspace (and workspace.yaml), as an old deploy left it. */
export function writeLegacyFlagship(workspace: Workspace, pipeline: { id: string; name: string; version: number }, locationName: string): void {
  workspace.swapIn(locationName, workspace.stage(locationName, legacyFlagshipFiles(pipeline))).commit();
}
