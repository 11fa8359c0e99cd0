/**
 * Every name the compiler makes up lives here; the compiler, validation and the deploy code use
 * nothing else. Two kinds are made:
 * - spec-level names: the default job's id, which shares the spec's one namespace of ids and is
 *   made unique against it;
 * - Dagster names (asset keys, group, job, schedule, sensor and resource names), which put the
 *   org's and the pipeline's slugs in front of a spec id, so that pipelines sharing a code
 *   location, and assets sharing a Dagster instance, never collide whatever their ids.
 * Before shards each pipeline had a location and a generated definitions.py to itself, and its
 * spec ids had to stay clear of the module's own names and of its resource parameters; neither
 * exists now (the component builds everything in its own scope, resource keys carry the slug).
 */

/**
 * Ids no spec may use whatever else it holds. Each block's asset function is called with
 * `context` and with its upstream blocks, by id, as keyword arguments, so a block id `context`
 * would take its place. (Dagster refuses "context" as a name too; this says why it matters here.)
 */
export const FIXED_NAMES: readonly string[] = ['context'];

/** The default job's id when no spec id takes it. */
export const DEFAULT_JOB = 'all_blocks';

/** What naming reads of a spec: its ids, and which schedules and sensors name their job. */
export interface SpecNames {
  blocks: ReadonlyArray<{ id: string }>;
  jobs: ReadonlyArray<{ id: string }>;
  schedules: ReadonlyArray<{ id: string; job?: string | undefined }>;
  sensors: ReadonlyArray<{ id: string; job?: string | undefined }>;
}

/** Makes `base` unique against `taken` by suffixing _2, _3, …; records the result in `taken`. */
export function uniqueId(base: string, taken: Set<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

/**
 * The id of the job that runs every block, when some schedule or sensor names no job or the spec
 * has no jobs; else null. Unique against every spec id, so it never clashes with one. It is the id the
 * job had when each pipeline had its own location and jobs were named by id alone: a pipeline
 * still deployed that way is launched by it.
 */
export function defaultJobId(spec: SpecNames): string | null {
  const needsDefault = spec.jobs.length === 0 || [...spec.schedules, ...spec.sensors].some((t) => !t.job);
  if (!needsDefault) return null;
  const ids = [...spec.blocks, ...spec.jobs, ...spec.schedules, ...spec.sensors].map((x) => x.id);
  return uniqueId(DEFAULT_JOB, new Set([...FIXED_NAMES, ...ids]));
}

/** What to add to an id of each kind to make a new one that says what it names. */
export const KIND_SUFFIX = { blocks: 'table', jobs: 'job', schedules: 'schedule', sensors: 'sensor' } as const;

/** Where a pipeline lives in Dagster: its org's slug and its own, both fixed when they were made. */
export interface PipelineSlugs {
  org: string;
  pipeline: string;
}

// The shape the store holds slugs to (migration 0005): no "__" inside and no "_" at the end, so
// "<slug>__<id>" splits one way only and two pipelines' names can never meet.
const SLUG = /^[a-z][a-z0-9_]{0,39}$/;
const isSlug = (slug: string) => SLUG.test(slug) && !slug.includes('__') && !slug.endsWith('_');

/** A pipeline's names in its Dagster instance and code location. */
export interface DagsterNames {
  /** Every asset key is this plus the block id: keys are global in an instance, and so are the watermarks read by key. */
  assetKeyPrefix: [string, string];
  /** The asset group Dagster's UI shows the pipeline's assets under. */
  group: string;
  /** Jobs, schedules and sensors share their location's flat namespaces with other pipelines. */
  job: (jobId: string) => string;
  schedule: (scheduleId: string) => string;
  sensor: (sensorId: string) => string;
  /** The key of a block's connection resource, one per block. */
  resourceKey: (blockId: string, keySuffix: string) => string;
}

export function dagsterNames(slugs: PipelineSlugs): DagsterNames {
  for (const slug of [slugs.org, slugs.pipeline]) {
    if (!isSlug(slug)) throw new Error(`"${slug}" is not a slug the store makes; Dagster names made from it could collide`);
  }
  const qualified = (name: string) => `${slugs.pipeline}__${name}`;
  return {
    assetKeyPrefix: [slugs.org, slugs.pipeline],
    // Dagster 1.13.27 holds a group name only to [A-Za-z0-9_]+ (validate_group_name), not to the
    // reserved words it refuses in job names (dagster-names.json): every slug passes, "config" too.
    group: slugs.pipeline,
    job: qualified,
    schedule: qualified,
    sensor: qualified,
    resourceKey: (blockId, keySuffix) => qualified(`${blockId}_${keySuffix}`),
  };
}

/** The pipeline's folder in its shard's defs/: its slug, unique in the org as a shard is. */
export const componentNameFor = (slugs: PipelineSlugs) => slugs.pipeline;

/**
 * The code location a pipeline had to itself before shards, derived from its id. Pipelines
 * deployed then live there until their next deploy moves them.
 */
export const locationNameFor = (pipelineId: string) => `pipeline_${pipelineId.replace(/-/g, '').slice(0, 12).toLowerCase()}`;

/**
 * The spec id of a job from its name in Dagster, so that runs show the id users launch them by. A
 * name without the pipeline's prefix is a spec id already: the job of a location from before
 * shards. (A pre-shard job whose own id began with "<slug>__" would lose that part; slugs carry
 * no "__", so only a spec id written that way could.)
 */
export function specJobId(pipelineSlug: string, dagsterJobName: string): string {
  const prefix = `${pipelineSlug}__`;
  return dagsterJobName.startsWith(prefix) ? dagsterJobName.slice(prefix.length) : dagsterJobName;
}
