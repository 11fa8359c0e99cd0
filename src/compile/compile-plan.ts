import type { BlockType } from '../catalog/block-type.ts';
import { AppError, type Issue } from '../errors.ts';
import { neededColumns, runtimeNeeds } from '../pipelines/contracts.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { implementedBlockTypes, isImplementedSensor, recipeOf, type BlockRecipe } from './block-recipes.ts';
import { dagsterNames, defaultJobId, type DagsterNames, type PipelineSlugs } from './naming.ts';

/** One block's asset: how the library runs it, its resource key if any, and its inputs by port. */
export interface AssetPlan {
  id: string;
  recipe: BlockRecipe;
  /** The key of the block's connection resource, when it needs one. */
  resourceKey: string | null;
  /**
   * Port name → upstream asset ids, in edge order; `multiple` ports get a list. `columns`: what a
   * table input needs of every table it receives, which the library checks before the step runs.
   */
  inputs: Array<{ port: string; upstream: string[]; multiple: boolean; columns?: Array<{ name: string; type: string | null }> }>;
}

export interface CompilePlan {
  names: DagsterNames;
  assets: AssetPlan[];
  /** Jobs in spec order, the default job last when one is needed; `name` is Dagster's. */
  jobs: Array<{ id: string; name: string; blocks: string[]; description: string | null; checks: boolean }>;
  schedules: Array<{ id: string; name: string; job: string }>;
  sensors: Array<{ id: string; name: string; job: string }>;
  defaultJob: string | null;
}

const IMPLEMENTED_SENSORS = 'file_arrival_sensor@1 (local_directory), github_release_sensor@1, data_quality_alert_sensor@1';

/**
 * Decides what the pipeline's component builds, and refuses what the block library cannot run
 * yet (naming each block). Every name comes from naming.ts.
 */
export function planCompile(spec: PipelineSpec, types: Map<string, BlockType>, slugs: PipelineSlugs): CompilePlan {
  const names = dagsterNames(slugs);
  const issues: Issue[] = [];

  spec.sensors.forEach((sensor, i) => {
    const type = types.get(sensor.id);
    if (!type || !isImplementedSensor(type.ref)) {
      issues.push({ code: 'not_implemented', path: `/sensors/${i}/type`, message: `sensor "${sensor.id}" uses ${sensor.type}, which the block library does not implement yet`, hint: `Implemented sensors: ${IMPLEMENTED_SENSORS}.` });
    } else if (type.slug === 'file_arrival_sensor' && sensor.config.bucket !== undefined) {
      // The catalog describes S3 buckets (Garage); the library watches local directories until S3 support lands.
      issues.push({ code: 'not_implemented', path: `/sensors/${i}/config/bucket`, message: `sensor "${sensor.id}" watches a bucket, which the block library cannot do yet`, hint: 'Watch a local_directory (an absolute path where the Dagster daemon runs) instead of a bucket for now.' });
    }
  });

  const assets: AssetPlan[] = [];
  spec.blocks.forEach((block, i) => {
    const type = types.get(block.id);
    const recipe = type && recipeOf(type);
    if (!type || !recipe) {
      issues.push({
        code: 'not_implemented',
        path: `/blocks/${i}/type`,
        message: `block "${block.id}" uses ${block.type}, which the block library does not implement yet`,
        hint: `Implemented today: ${implementedBlockTypes().join(', ')}; and every block type your org registered from a code repository.`,
      });
      return;
    }
    const inputs = type.inputs
      .map((port) => ({
        port: port.name,
        multiple: port.multiple,
        upstream: [...new Set(spec.edges.filter((e) => e.to.block === block.id && e.to.port === port.name).map((e) => e.from.block))],
        columns: runtimeNeeds(neededColumns(block, type, i, port.name)),
      }))
      // Only an input with needs carries `columns` (the library reads none as none): the
      // pipeline.json, and so the content hash, of every pipeline without contracts stays as it
      // was, and redeploying it changes nothing.
      .map(({ columns, ...input }) => (columns.length ? { ...input, columns } : input))
      .filter((input) => input.upstream.length > 0);
    const resourceKey = recipe.resource ? names.resourceKey(block.id, recipe.resource.keySuffix) : null;
    assets.push({ id: block.id, recipe, resourceKey, inputs });
  });

  if (issues.length) {
    throw new AppError('not_implemented:compile', `This pipeline cannot be compiled yet: ${issues.length} problem${issues.length === 1 ? '' : 's'}.`, {
      hint: 'Each issue names the block or trigger; the catalog is wider than the block library for now.',
      issues,
    });
  }

  const defaultJob = defaultJobId(spec);
  const jobs = spec.jobs.map((job) => ({ id: job.id, name: names.job(job.id), blocks: job.blocks, description: job.description ?? null, checks: job.checks ?? true }));
  if (defaultJob) jobs.push({ id: defaultJob, name: names.job(defaultJob), blocks: spec.blocks.map((b) => b.id), description: null, checks: true });
  const schedules = spec.schedules.map((s) => ({ id: s.id, name: names.schedule(s.id), job: s.job ?? defaultJob! }));
  const sensors = spec.sensors.map((s) => ({ id: s.id, name: names.sensor(s.id), job: s.job ?? defaultJob! }));
  return { names, assets, jobs, schedules, sensors, defaultJob };
}
