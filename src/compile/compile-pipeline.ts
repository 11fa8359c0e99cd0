import { createHash } from 'node:crypto';
import type { BlockType } from '../catalog/block-type.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { BASE_REQUIREMENTS } from './block-recipes.ts';
import { planCompile } from './compile-plan.ts';
import { definitionsPy } from './definitions-py.ts';
import { pipelineJson, type PipelineIdentity } from './pipeline-json.ts';

export interface CompiledLocation {
  /** The Dagster code location name: derived from the pipeline id, stable across renames. */
  locationName: string;
  /** File name → content, in a fixed order. */
  files: Record<string, string>;
  /** sha256 over the files: equal hashes, byte-identical locations. */
  contentHash: string;
  /** Job names in the location; `defaultJob` runs every block (null when the spec's jobs cover all). */
  jobs: string[];
  defaultJob: string | null;
}

export const locationNameFor = (pipelineId: string) => `pipeline_${pipelineId.replace(/-/g, '').slice(0, 12).toLowerCase()}`;

/**
 * A valid pipeline version → a Dagster code location. Pure and deterministic: no clock, no
 * randomness, no I/O; the same inputs always give the same bytes and hash.
 */
export function compilePipeline(pipeline: PipelineIdentity, spec: PipelineSpec, types: Map<string, BlockType>): CompiledLocation {
  const plan = planCompile(spec, types);
  const requirements = [...new Set([...BASE_REQUIREMENTS, ...plan.assets.flatMap((a) => a.recipe.requirements)])].sort();
  const files: Record<string, string> = {
    'definitions.py': definitionsPy(pipeline.id, pipeline.version, plan),
    'pipeline.json': pipelineJson(pipeline, spec, types, plan),
    'requirements.txt': `# Pinned for pipeline ${pipeline.id}, version ${pipeline.version}.\n${requirements.join('\n')}\n`,
  };
  const hash = createHash('sha256');
  for (const [name, content] of Object.entries(files)) hash.update(name).update('\0').update(content).update('\0');
  return { locationName: locationNameFor(pipeline.id), files, contentHash: hash.digest('hex'), jobs: plan.jobs.map((j) => j.id), defaultJob: plan.defaultJob };
}
