import type { BlockType } from '../catalog/block-type.ts';
import { applyConfigDefaults } from '../catalog/config-validator.ts';
import type { PipelineSpec, RetryPolicy } from '../pipelines/spec-schema.ts';
import { canonicalJsonFile } from '../canonical-json.ts';
import type { CompilePlan } from './compile-plan.ts';

/** The pipeline.json format compile writes; the block library's component reads it (and format 1, for locations written before). */
export const PIPELINE_FORMAT = 2;

export interface PipelineIdentity {
  id: string;
  name: string;
  description: string | null;
  version: number;
  /** The pipeline's slug and its org's: fixed when each was created, they name it in Dagster. */
  slug: string;
  orgSlug: string;
}

const retry = (policy: RetryPolicy | undefined) =>
  policy
    ? { max_retries: policy.max_retries, delay_seconds: policy.delay_seconds, backoff: policy.backoff ?? null, jitter: policy.jitter ?? null }
    : null;

/**
 * pipeline.json: everything the pipeline's component builds from, complete (config defaults
 * filled in, every optional field present as null) so the Python side never guesses, and every
 * Dagster name already made (by naming.ts) so it never composes one.
 */
export function pipelineJson(pipeline: PipelineIdentity, spec: PipelineSpec, types: Map<string, BlockType>, plan: CompilePlan): string {
  const assets = new Map(plan.assets.map((a) => [a.id, a]));
  const repoTypes = repoBlockTypes(spec, types);
  const blocks = Object.fromEntries(
    spec.blocks.map((block) => [
      block.id,
      {
        type: types.get(block.id)!.ref,
        name: block.name ?? null,
        description: block.description ?? null,
        config: applyConfigDefaults(types.get(block.id)!.config_schema, block.config),
        retry_policy: retry(block.retry_policy ?? spec.retry_policy),
        downstream: [...new Set(spec.edges.filter((e) => e.from.block === block.id).map((e) => e.to.block))],
        inputs: assets.get(block.id)!.inputs,
        resource_key: assets.get(block.id)!.resourceKey,
      },
    ]),
  );
  const specSchedules = new Map(spec.schedules.map((s) => [s.id, s]));
  const specSensors = new Map(spec.sensors.map((s) => [s.id, s]));
  const partitions = spec.partitions
    ? spec.partitions.type === 'static'
      ? spec.partitions
      : { ...spec.partitions, end_date: spec.partitions.end_date ?? null }
    : null;
  return canonicalJsonFile({
    format: PIPELINE_FORMAT,
    pipeline: { id: pipeline.id, name: pipeline.name, description: pipeline.description, version: pipeline.version, slug: pipeline.slug, org: pipeline.orgSlug },
    namespace: { asset_key_prefix: plan.names.assetKeyPrefix, group: plan.names.group },
    blocks,
    jobs: Object.fromEntries(plan.jobs.map((job) => [job.id, { name: job.name, blocks: job.blocks, description: job.description, checks: job.checks }])),
    schedules: Object.fromEntries(
      plan.schedules.map(({ id, name, job }) => {
        const s = specSchedules.get(id)!;
        return [id, { name, job, cron: s.cron, timezone: s.timezone, description: s.description ?? null }];
      }),
    ),
    sensors: Object.fromEntries(
      plan.sensors.map(({ id, name, job }) => {
        const s = specSensors.get(id)!;
        const type = types.get(id)!;
        return [id, { name, type: type.ref, job, config: applyConfigDefaults(type.config_schema, s.config), description: s.description ?? null }];
      }),
    ),
    partitions,
    // On every run of every job, so runs started by schedules carry them as launched ones do.
    run_tags: { 'constellation/pipeline_id': pipeline.id, 'constellation/pipeline_version': String(pipeline.version) },
    // Only when the pipeline uses one: every other pipeline keeps its bytes, and so its content hash.
    ...(Object.keys(repoTypes).length ? { repo_block_types: repoTypes } : {}),
  });
}

/**
 * Ref → how the block library runs each block type registered from a code repository that the
 * pipeline uses: the step function in the commit's package, and the secrets whose variable a
 * config field may name (constellation_blocks.repo_blocks.secret reads them at run time).
 */
function repoBlockTypes(spec: PipelineSpec, types: Map<string, BlockType>): Record<string, { callable: string; secrets?: Array<{ name: string; config_field: string | null }> }> {
  const used = spec.blocks.map((block) => types.get(block.id)!).filter((type) => type.origin);
  return Object.fromEntries(
    used.map((type) => [
      type.ref,
      {
        callable: type.python.callable,
        ...(type.secrets.length ? { secrets: type.secrets.map((s) => ({ name: s.name, config_field: s.config_field ?? null })) } : {}),
      },
    ]),
  );
}
