import { createHash } from 'node:crypto';
import type { BlockType } from '../catalog/block-type.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { planCompile } from './compile-plan.ts';
import { defsYaml } from './defs-yaml.ts';
import { componentNameFor, locationNameFor } from './naming.ts';
import { PIPELINE_FORMAT, pipelineJson, type PipelineIdentity } from './pipeline-json.ts';

export { locationNameFor, PIPELINE_FORMAT };

/** A pipeline version as a Dagster component: the folder its shard's defs/ holds for it. */
export interface CompiledPipeline {
  /** The pipeline's folder in its shard's defs/ = its slug. */
  componentName: string;
  orgSlug: string;
  /** File name → content, in a fixed order: 'defs.yaml', 'pipeline.json'. */
  files: Record<string, string>;
  /** sha256 over the files, format and requirements: equal hashes, byte-identical components. */
  contentHash: string;
  /** The pipeline.json format written (PIPELINE_FORMAT); a shard holds one format. */
  format: number;
  /** Pinned packages its blocks import, beyond dagster and the library; the shard writes one requirements file for all. */
  requirements: string[];
  /**
   * The import names of the code-repository packages its blocks run (constellation_repo_<ns>_<commit12>),
   * sorted; the deploy fetches their files into the shard. pipeline.json names each (repo_block_types),
   * so the content hash changes with them.
   */
  packages: string[];
  /** Spec job ids (what users and tools name), the default job last. */
  jobs: string[];
  /** The spec-level id of the job that runs every block, when the spec needs one. */
  defaultJob: string | null;
  /** Spec job id → the job's name in Dagster. */
  dagsterJobs: Record<string, string>;
  /** pipeline_<hex12>: the location the pipeline had to itself before shards. */
  legacyLocationName: string;
}

/**
 * A valid pipeline version → its Dagster component. Pure and deterministic: no clock, no
 * randomness, no I/O; the same spec and slugs always give the same bytes and hash.
 */
export function compilePipeline(pipeline: PipelineIdentity, spec: PipelineSpec, types: Map<string, BlockType>): CompiledPipeline {
  const slugs = { org: pipeline.orgSlug, pipeline: pipeline.slug };
  const plan = planCompile(spec, types, slugs);
  const requirements = [...new Set(plan.assets.flatMap((a) => a.recipe.requirements))].sort();
  const packages = [...new Set(plan.assets.flatMap((a) => (a.recipe.repoPackage ? [a.recipe.repoPackage] : [])))].sort();
  const files: Record<string, string> = {
    'defs.yaml': defsYaml(pipeline.id, pipeline.version),
    'pipeline.json': pipelineJson(pipeline, spec, types, plan),
  };
  const hash = createHash('sha256').update(`format ${PIPELINE_FORMAT}\0`);
  for (const [name, content] of Object.entries(files)) hash.update(name).update('\0').update(content).update('\0');
  hash.update(requirements.join('\n'));
  return {
    componentName: componentNameFor(slugs),
    orgSlug: pipeline.orgSlug,
    files,
    contentHash: hash.digest('hex'),
    format: PIPELINE_FORMAT,
    requirements,
    packages,
    jobs: plan.jobs.map((j) => j.id),
    defaultJob: plan.defaultJob,
    dagsterJobs: Object.fromEntries(plan.jobs.map((j) => [j.id, j.name])),
    legacyLocationName: locationNameFor(pipeline.id),
  };
}
