import type { BlockType } from '../catalog/block-type.ts';
import { AppError, type Issue } from '../errors.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { recipeFor, type BlockRecipe } from './block-recipes.ts';
import { nameClashes, nameGeneratedCode } from './naming.ts';

/** One asset function to generate: its block, how to call the library, and its inputs by port. */
export interface AssetPlan {
  id: string;
  recipe: BlockRecipe;
  /** Resource parameter name (also the key in Definitions.resources), when the block needs one. */
  resourceKey?: string;
  /** Port name → upstream asset ids, in edge order; `multiple` ports get a list. */
  inputs: Array<{ port: string; upstream: string[]; multiple: boolean }>;
}

export interface CompilePlan {
  assets: AssetPlan[];
  /** Job ids in spec order, the default job last when one is needed. */
  jobs: Array<{ id: string; blocks: string[]; description: string | null }>;
  schedules: Array<{ id: string; job: string }>;
  defaultJob: string | null;
}

/**
 * Decides what the generated module contains, and refuses what the block library cannot run yet
 * (naming each block). Every generated name comes from naming.ts, which validation checks with
 * the same functions: a clash here means the spec was never validated, hence a 400.
 */
export function planCompile(spec: PipelineSpec, types: Map<string, BlockType>): CompilePlan {
  const naming = nameGeneratedCode(spec, (id) => types.get(id)?.ref);
  const clashes = nameClashes(spec, naming);
  if (clashes.length) {
    throw new AppError('invalid:pipeline', `The pipeline spec has ${clashes.length} name clash${clashes.length === 1 ? '' : 'es'} with generated code.`, {
      hint: 'Rename each id listed; validate the spec to see every problem at once.',
      issues: clashes,
    });
  }
  const issues: Issue[] = [];

  spec.sensors.forEach((sensor, i) =>
    issues.push({ code: 'not_implemented', path: `/sensors/${i}/type`, message: `sensor "${sensor.id}" (${sensor.type}) cannot be compiled yet: the block library has no sensors`, hint: 'Use a cron schedule for now, or remove the sensor.' }),
  );

  const assets: AssetPlan[] = [];
  spec.blocks.forEach((block, i) => {
    const type = types.get(block.id);
    const recipe = type && recipeFor(type.ref);
    if (!type || !recipe) {
      issues.push({
        code: 'not_implemented',
        path: `/blocks/${i}/type`,
        message: `block "${block.id}" uses ${block.type}, which the block library does not implement yet`,
        hint: 'Implemented today: postgres_incremental_extract@1, clickhouse_replacing_merge_tree_load@1, duckdb_load@1.',
      });
      return;
    }
    const inputs = type.inputs
      .map((port) => ({
        port: port.name,
        multiple: port.multiple,
        upstream: [...new Set(spec.edges.filter((e) => e.to.block === block.id && e.to.port === port.name).map((e) => e.from.block))],
      }))
      .filter((input) => input.upstream.length > 0);
    const resourceKey = naming.resourceKeys.get(block.id);
    assets.push({ id: block.id, recipe, ...(resourceKey ? { resourceKey } : {}), inputs });
  });

  if (issues.length) {
    throw new AppError('not_implemented:compile', `This pipeline cannot be compiled yet: ${issues.length} problem${issues.length === 1 ? '' : 's'}.`, {
      hint: 'Each issue names the block or trigger; the catalog is wider than the block library for now.',
      issues,
    });
  }

  const { defaultJob } = naming;
  const jobs = spec.jobs.map((job) => ({ id: job.id, blocks: job.blocks, description: job.description ?? null }));
  if (defaultJob) jobs.push({ id: defaultJob, blocks: spec.blocks.map((b) => b.id), description: null });
  const schedules = spec.schedules.map((s) => ({ id: s.id, job: s.job ?? defaultJob! }));
  return { assets, jobs, schedules, defaultJob };
}
