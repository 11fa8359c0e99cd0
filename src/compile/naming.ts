import type { Issue } from '../errors.ts';
import { LIBRARY_MODULES, recipeFor } from './block-recipes.ts';

/**
 * Every name the compiler makes up lives here: validation reserves what these functions produce
 * and the compiler uses nothing else, so a name clash is a validation issue with its path (400),
 * never a surprise at compile. A new generated name added here is reserved at once.
 */

/**
 * Names generated definitions.py defines or imports whatever the spec holds (`context` is every
 * asset's first parameter). No spec id may take one: it would shadow it.
 */
export const FIXED_NAMES: readonly string[] = ['dg', 'defs', 'pipeline', 'context', 'Path', 'Pipeline', ...LIBRARY_MODULES];

/** The default job's name when no spec id takes it. */
export const DEFAULT_JOB = 'all_blocks';

/** What naming reads of a spec: its ids, and which schedules name their job. */
export interface SpecNames {
  blocks: ReadonlyArray<{ id: string }>;
  jobs: ReadonlyArray<{ id: string }>;
  schedules: ReadonlyArray<{ id: string; job?: string | undefined }>;
  sensors: ReadonlyArray<{ id: string }>;
}

export interface GeneratedName {
  name: string;
  /** What the name stands for, as a message says it. */
  role: string;
}

export interface Naming {
  /** Block id → the key of its connection resource (also its asset function's parameter). */
  resourceKeys: Map<string, string>;
  /** The job that runs every block, when some schedule names no job or the spec has no jobs. */
  defaultJob: string | null;
  /** Every name above with what it stands for. */
  generated: GeneratedName[];
}

/** Makes `base` unique against `taken` by suffixing _2, _3, …; records the result in `taken`. */
export function uniqueId(base: string, taken: Set<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}

const specIds = (spec: SpecNames) => [...spec.blocks, ...spec.jobs, ...spec.schedules, ...spec.sensors].map((x) => x.id);

/**
 * The names generated code gives to what the spec implies but does not name. `refOf` gives a
 * block's type as "slug@version" (undefined when it did not resolve).
 */
export function nameGeneratedCode(spec: SpecNames, refOf: (blockId: string) => string | undefined): Naming {
  const resourceKeys = new Map<string, string>();
  const generated: GeneratedName[] = [];
  for (const block of spec.blocks) {
    const resource = recipeFor(refOf(block.id) ?? '')?.resource;
    if (!resource || resourceKeys.has(block.id)) continue;
    const key = `${block.id}_${resource.keySuffix}`;
    resourceKeys.set(block.id, key);
    generated.push({ name: key, role: `the key of block "${block.id}"'s ${resource.keySuffix} resource` });
  }
  const needsDefault = spec.jobs.length === 0 || spec.schedules.some((s) => !s.job);
  const defaultJob = needsDefault ? uniqueId(DEFAULT_JOB, new Set([...FIXED_NAMES, ...specIds(spec), ...resourceKeys.values()])) : null;
  if (defaultJob) generated.push({ name: defaultJob, role: 'the job that runs every block' });
  return { resourceKeys, defaultJob, generated };
}

/**
 * Every spec id that takes a name generated code gives to something else: one issue at the id,
 * with a free id to rename it to.
 */
export function nameClashes(spec: SpecNames, naming: Naming): Issue[] {
  const byName = new Map(naming.generated.map((g) => [g.name, g]));
  const taken = new Set([...FIXED_NAMES, ...specIds(spec), ...byName.keys()]);
  const issues: Issue[] = [];
  for (const kind of ['blocks', 'jobs', 'schedules', 'sensors'] as const) {
    spec[kind].forEach((item, i) => {
      const clash = byName.get(item.id);
      if (!clash) return;
      issues.push({
        code: 'name_clash',
        path: `/${kind}/${i}/id`,
        message: `id "${item.id}" is the name generated code gives to ${clash.role}`,
        hint: `Rename it, e.g. to "${uniqueId(`${item.id}_${KIND_SUFFIX[kind]}`, taken)}".`,
      });
    });
  }
  return issues;
}

/** What to add to an id of each kind to make a new one that says what it names. */
export const KIND_SUFFIX = { blocks: 'table', jobs: 'job', schedules: 'schedule', sensors: 'sensor' } as const;
