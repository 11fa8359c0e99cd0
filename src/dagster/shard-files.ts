import { BASE_REQUIREMENTS } from '../compile/block-recipes.ts';

/**
 * What one pipeline puts into a shard: its compiled component folder (defs.yaml + pipeline.json)
 * and the pinned packages its blocks import. A CompiledPipeline is one.
 */
export interface ShardMember {
  componentName: string;
  files: Record<string, string>;
  requirements: string[];
}

/** A shard project's files: path relative to the shard's folder ('/'-separated) → content. */
export type ShardFiles = Record<string, string>;

/** Each member's requirements stay beside its component, so that the shard's union can be recomputed when one leaves. */
const MEMBER_REQUIREMENTS = 'requirements.txt';

const SHARD_NAME = /^([a-z][a-z0-9_]*)_shard_([1-9][0-9]*)$/;

export const shardName = (orgSlug: string, n: number) => `${orgSlug}_shard_${n}`;

/** The org slug and number of a shard's name; null for any other location (a legacy pipeline_<hex12>). */
export function parseShardName(name: string): { orgSlug: string; n: number } | null {
  const match = SHARD_NAME.exec(name);
  return match ? { orgSlug: match[1]!, n: Number(match[2]) } : null;
}

const componentDir = (shard: string, component: string) => `${shard}/defs/${component}/`;

/** The components (one per pipeline) a shard's files hold, sorted. */
export function componentsOf(shard: string, files: ShardFiles): string[] {
  const prefix = `${shard}/defs/`;
  const names = Object.keys(files).flatMap((path) => {
    if (!path.startsWith(prefix)) return [];
    const rest = path.slice(prefix.length).split('/');
    return rest.length > 1 ? [rest[0]!] : [];
  });
  return [...new Set(names)].sort();
}

/** The shard with `member`'s component folder written (replacing what it had there). */
export function withMember(shard: string, current: ShardFiles, member: ShardMember): ShardFiles {
  const dir = componentDir(shard, member.componentName);
  const members: ShardFiles = dropComponent(shard, current, member.componentName);
  for (const [name, content] of Object.entries(member.files)) members[`${dir}${name}`] = content;
  members[`${dir}${MEMBER_REQUIREMENTS}`] = requirementsFile(`pipeline component ${member.componentName}`, member.requirements);
  return withTemplate(shard, members);
}

/** The shard without `component`'s folder; null when no component is left (the shard leaves the workspace). */
export function withoutMember(shard: string, current: ShardFiles, component: string): ShardFiles | null {
  const members = dropComponent(shard, current, component);
  return componentsOf(shard, members).length ? withTemplate(shard, members) : null;
}

/**
 * The shard project with only `components`' folders: what a deploy checks before it swaps. The
 * members it leaves out already load (they are in place), and none can clash with another (every
 * name Dagster sees is prefixed with its pipeline's slug), so checking what changed checks the
 * shard, in the time one pipeline takes to load instead of all of them.
 */
export function onlyMembers(shard: string, files: ShardFiles, components: string[]): ShardFiles {
  const keep = components.map((component) => componentDir(shard, component));
  return withTemplate(shard, Object.fromEntries(Object.entries(files).filter(([path]) => keep.some((dir) => path.startsWith(dir)))));
}

/** Only the component folders of `files`, without `component`'s. */
function dropComponent(shard: string, files: ShardFiles, component: string): ShardFiles {
  const drop = componentDir(shard, component);
  const keep = `${shard}/defs/`;
  return Object.fromEntries(Object.entries(files).filter(([path]) => path.startsWith(keep) && !path.startsWith(drop) && path !== `${keep}__init__.py`));
}

/**
 * The fixed project files around the component folders, rewritten on every change so that a
 * shard always carries the current template. Nothing in them comes from a user: the shard's name
 * is made of the org slug and a number, and requirements are pinned package names.
 */
function withTemplate(shard: string, members: ShardFiles): ShardFiles {
  const requirements = Object.entries(members)
    .filter(([path]) => path.endsWith(`/${MEMBER_REQUIREMENTS}`))
    .flatMap(([, content]) => content.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#')));
  return {
    'pyproject.toml': pyprojectToml(shard),
    'requirements.txt': requirementsFile(`code location ${shard}: the block library and what its pipelines' blocks import`, requirements),
    [`${shard}/__init__.py`]: '',
    [`${shard}/definitions.py`]: definitionsPy(shard),
    [`${shard}/defs/__init__.py`]: '',
    ...sortedByPath(members),
  };
}

function requirementsFile(what: string, requirements: string[]): string {
  return `# Pinned for ${what}.\n${[...new Set([...BASE_REQUIREMENTS, ...requirements])].sort().join('\n')}\n`;
}

const pyprojectToml = (shard: string) =>
  [
    '# Written by Constellation Agent: a shared code location holding one component per pipeline.',
    '[project]',
    `name = "${shard}"`,
    'version = "0.1.0"',
    '',
    '[tool.dg]',
    'directory_type = "project"',
    '',
    '[tool.dg.project]',
    `root_module = "${shard}"`,
    '',
  ].join('\n');

// The defs package is imported eagerly and the definitions built once, at module level: a
// @dg.definitions function would be called twice per load (DAGSTER.md, "Components in shared locations").
// Every shard also carries the block library's source inspection job (inspect_source.py): it must
// run where the environment's pipelines run, with that Dagster's variables, so the secret a
// source's config names is read there and never by the service. A shard is already such a place;
// a location of its own would be one more process per environment, and one more entry to keep in
// workspace.yaml, for a job a few lines long. The job's name is not a pipeline's (those start with
// their pipeline's slug and "__"), and any of an environment's shards runs it the same way.
const definitionsPy = (shard: string) =>
  [
    `"""Code location ${shard}: written by Constellation Agent. Each folder under defs/ is one pipeline."""`,
    '',
    'from pathlib import Path',
    '',
    'import dagster as dg',
    '',
    'from constellation_blocks import inspect_source',
    '',
    `import ${shard}.defs  # noqa: F401`,
    '',
    'defs = dg.Definitions.merge(',
    '    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),',
    '    inspect_source.definitions(),',
    ')',
    '',
  ].join('\n');

function sortedByPath(files: ShardFiles): ShardFiles {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
