import { BASE_REQUIREMENTS } from '../compile/block-recipes.ts';
import { REPO_PACKAGE } from '../catalog/manifest-schema.ts';
import { BLOCK_LIBRARY_CONSTRAINTS, BLOCK_LIBRARY_WHEELS_DIR } from './block-library-wheel.ts';

/**
 * What one pipeline puts into a shard: its compiled component folder (defs.yaml + pipeline.json),
 * the pinned packages its blocks import, and the code-repository packages its blocks run. A
 * CompiledPipeline is one, once the deploy has added its packages' files (repo-packages.ts).
 */
export interface ShardMember {
  componentName: string;
  files: Record<string, string>;
  requirements: string[];
  /** Import names of the code-repository packages its blocks run (constellation_repo_<ns>_<commit12>); none when absent. */
  packages?: string[];
  /**
   * Those packages' files, `<package>/<path>` from the shard project's root. A package already in
   * the shard may be left out: a package is one commit's code, the same wherever it comes from.
   */
  packageFiles?: ShardFiles;
}

/** A shard project's files: path relative to the shard's folder ('/'-separated) → content. */
export type ShardFiles = Record<string, string>;

/** Each member's requirements stay beside its component, so that the shard's union can be recomputed when one leaves. */
const MEMBER_REQUIREMENTS = 'requirements.txt';

/**
 * And the code-repository packages it runs, for the same reason: a package's folder stays at the
 * shard's root while any member lists it. Written only by members that run one, so the shards of
 * every other pipeline keep their bytes.
 */
const MEMBER_PACKAGES = 'packages.txt';

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

/**
 * The shard with `member`'s component folder written (replacing what it had there), and its
 * packages at the shard's root, beside pyproject.toml (the workspace's working_directory is that
 * root, so they import by name); packages no member runs any more leave.
 */
export function withMember(shard: string, current: ShardFiles, member: ShardMember): ShardFiles {
  const dir = componentDir(shard, member.componentName);
  const body: ShardFiles = dropComponent(shard, current, member.componentName);
  for (const [name, content] of Object.entries(member.files)) body[`${dir}${name}`] = content;
  body[`${dir}${MEMBER_REQUIREMENTS}`] = requirementsFile(`pipeline component ${member.componentName}`, member.requirements);
  const packages = member.packages ?? [];
  if (packages.length) body[`${dir}${MEMBER_PACKAGES}`] = packagesFile(member.componentName, packages);
  for (const pkg of packages) {
    const inFolder = ([path]: [string, string]) => path.startsWith(`${pkg}/`);
    const given = Object.entries(member.packageFiles ?? {}).filter(inFolder);
    const files = given.length ? given : Object.entries(current).filter(inFolder);
    // The deploy fetches every package a member runs (repo-packages.ts); this keeps a bug from writing a shard that cannot import.
    if (!files.length) throw new Error(`withMember: component ${member.componentName} runs package ${pkg}, whose files are neither given nor in shard ${shard}`);
    // Replaced whole: a file the package no longer has must not linger.
    for (const path of Object.keys(body)) if (path.startsWith(`${pkg}/`)) delete body[path];
    for (const [path, content] of files) body[path] = content;
  }
  return withTemplate(shard, body);
}

/** The shard without `component`'s folder (and the packages only it ran); null when no component is left (the shard leaves the workspace). */
export function withoutMember(shard: string, current: ShardFiles, component: string): ShardFiles | null {
  const body = dropComponent(shard, current, component);
  return componentsOf(shard, body).length ? withTemplate(shard, body) : null;
}

/**
 * The shard project with only `components`' folders and the packages they run: what a deploy
 * checks before it swaps. The members it leaves out already load (they are in place), and none
 * can clash with another (every name Dagster sees is prefixed with its pipeline's slug), so
 * checking what changed checks the shard, in the time one pipeline takes to load instead of all
 * of them.
 */
export function onlyMembers(shard: string, files: ShardFiles, components: string[]): ShardFiles {
  const dirs = components.map((component) => componentDir(shard, component));
  const kept = Object.fromEntries(Object.entries(files).filter(([path]) => dirs.some((dir) => path.startsWith(dir))));
  return withTemplate(shard, { ...kept, ...packageFolders(shard, files, kept) });
}

/** The component folders of `files`, without `component`'s, and the package folders the rest run. */
function dropComponent(shard: string, files: ShardFiles, component: string): ShardFiles {
  const drop = componentDir(shard, component);
  const keep = `${shard}/defs/`;
  const members = Object.fromEntries(Object.entries(files).filter(([path]) => path.startsWith(keep) && !path.startsWith(drop) && path !== `${keep}__init__.py`));
  return { ...members, ...packageFolders(shard, files, members) };
}

/** The files of `files`' package folders that a component of `members` lists in its packages.txt. */
function packageFolders(shard: string, files: ShardFiles, members: ShardFiles): ShardFiles {
  const used = new Set(
    Object.entries(members)
      .filter(([path]) => path.startsWith(`${shard}/defs/`) && path.endsWith(`/${MEMBER_PACKAGES}`))
      .flatMap(([, content]) => listed(content)),
  );
  return Object.fromEntries(Object.entries(files).filter(([path]) => used.has(path.split('/')[0]!)));
}

/** The lines of a requirements or packages file, comments and blanks left out. */
const listed = (content: string) => content.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));

function packagesFile(component: string, packages: string[]): string {
  for (const pkg of packages) if (!REPO_PACKAGE.test(pkg)) throw new Error(`packagesFile: ${JSON.stringify(pkg)} is not a code-repository package name`);
  return `# Code-repository packages pipeline component ${component} runs, at the shard's root.\n${[...new Set(packages)].sort().join('\n')}\n`;
}

/**
 * The fixed project files around the component and package folders, rewritten on every change so
 * that a shard always carries the current template. Nothing in them comes from a user: the
 * shard's name is made of the org slug and a number, and requirements are pinned package names
 * or repository lines checked against the environment when the repository compiled.
 */
function withTemplate(shard: string, members: ShardFiles): ShardFiles {
  // A package's own files may be called requirements.txt too: only the components' count.
  const requirements = Object.entries(members)
    .filter(([path]) => path.startsWith(`${shard}/defs/`) && path.endsWith(`/${MEMBER_REQUIREMENTS}`))
    .flatMap(([, content]) => listed(content));
  return {
    'pyproject.toml': pyprojectToml(shard),
    'requirements.txt': shardRequirementsFile(shard, requirements),
    'constraints.txt': BLOCK_LIBRARY_CONSTRAINTS,
    [`${shard}/__init__.py`]: '',
    [`${shard}/definitions.py`]: definitionsPy(shard),
    [`${shard}/defs/__init__.py`]: '',
    ...sortedByPath(members),
  };
}

function requirementsFile(what: string, requirements: string[]): string {
  return `# Pinned for ${what}.\n${[...new Set([...BASE_REQUIREMENTS, ...requirements])].sort().join('\n')}\n`;
}

/**
 * What `pip install -r requirements.txt` in the shard's folder needs to make it load in a fresh
 * virtualenv: the block library's wheel, which no index has, from the workspace's wheels folder
 * (deploy-worker.ts builds it there; pip reads both paths relative to this file), and the exact
 * stack the library was tested with.
 */
function shardRequirementsFile(shard: string, requirements: string[]): string {
  const options = [`--find-links ../../${BLOCK_LIBRARY_WHEELS_DIR}`, '-c constraints.txt'];
  const [comment, ...pins] = requirementsFile(`code location ${shard}: the block library and what its pipelines' blocks import`, requirements).split('\n');
  return [comment, ...options, ...pins].join('\n');
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
const definitionsPy = (shard: string) =>
  [
    `"""Code location ${shard}: written by Constellation Agent. Each folder under defs/ is one pipeline."""`,
    '',
    'from pathlib import Path',
    '',
    'import dagster as dg',
    '',
    `import ${shard}.defs  # noqa: F401`,
    '',
    'defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)',
    '',
  ].join('\n');

function sortedByPath(files: ShardFiles): ShardFiles {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
