import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Environment } from './environments.ts';
import { writeClusterFiles } from './kubernetes/cluster-files.ts';
import { parseShardName, type ShardFiles } from './shard-files.ts';
import type { ShardSlot } from './shard-placement.ts';
import { locationNamesIn, renderWorkspaceYaml, SYSTEM_LOCATION } from './workspace-yaml.ts';

/** A change to the workspace's locations, in place and in workspace.yaml, until it settles. */
export interface WorkspaceChange {
  /** Other locations the change took out. */
  removed: string[];
  /** Puts back what was in place before. */
  rollback(): void;
  /** Drops the kept copies: the change stays. */
  commit(): void;
}

/** A location's files as they were before a deploy replaced them, kept in .previous until it settles. */
export interface KeptCopy {
  dir: string;
  location: string;
  /** The deployment that replaced them; null in copies named before deployments were named in them. */
  deploymentId: string | null;
}

export { SYSTEM_LOCATION } from './workspace-yaml.ts';

const tag = () => randomBytes(6).toString('hex');
// .previous/<location>-<tag>[-<deployment id>]; location names (<org slug>_shard_<n>, pipeline_<hex>) have no "-".
const KEPT_NAME = /^([^-]+)-[0-9a-f]{12}(?:-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?$/;

/**
 * One environment's workspace directory:
 *   workspace.yaml            what Dagster loads: the system location, then one entry per folder below
 *   locations/<org>_shard_<n>/  a shared code location: a project with one component per pipeline
 *   locations/pipeline_<hex>/   a pipeline deployed before shards, in its own location
 *   .staging/, .previous/     where a location is written, and where the one it replaced waits
 *   .trash/                   where a folder goes (one rename) on its way to being deleted
 *   kubernetes/               with target: kubernetes, the images and manifests of its cluster (kubernetes/cluster-files.ts)
 * A location is written whole into .staging and renamed into place, so Dagster never sees half
 * of one; the location it replaced is kept until the new one is known to load. Folders leave by a
 * rename into .trash before they are deleted, so a kill half way through a delete leaves a partial
 * folder only in .trash, never in .previous or locations. What a deploy that died leaves behind
 * is cleared by recoverWorkspace (workspace-recovery.ts).
 */
export class Workspace {
  readonly env: Environment;

  constructor(env: Environment) {
    this.env = env;
  }

  get dir(): string {
    return this.env.workspaceDir;
  }

  locationDir(name: string): string {
    return join(this.dir, 'locations', name);
  }

  /** A location is in place: a shard project (pyproject.toml) or a legacy one-pipeline location (definitions.py). */
  hasLocation(name: string): boolean {
    const dir = this.locationDir(name);
    return parseShardName(name) ? existsSync(join(dir, 'pyproject.toml')) : existsSync(join(dir, 'definitions.py'));
  }

  /** The org's shards in place, with the components (pipelines) each holds. */
  shardsOf(orgSlug: string): ShardSlot[] {
    return this.shardNames().flatMap((name) => {
      const parsed = parseShardName(name)!;
      return parsed.orgSlug === orgSlug ? [{ n: parsed.n, components: this.componentsIn(name) }] : [];
    });
  }

  /** Every shard in place, of any org. */
  shardNames(): string[] {
    return this.entries('locations').filter((name) => parseShardName(name) && this.hasLocation(name)).sort();
  }

  componentsIn(shard: string): string[] {
    const defs = join(this.locationDir(shard), shard, 'defs');
    if (!existsSync(defs)) return [];
    return readdirSync(defs, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== '__pycache__').map((e) => e.name).sort();
  }

  /** Which pipeline (id and version) a shard's component holds, and the format of its pipeline.json; null when unreadable. */
  memberOf(shard: string, component: string): { pipelineId: string; version: number; format: number } | null {
    try {
      const json = JSON.parse(this.pipelineJson(shard, component));
      return { pipelineId: String(json.pipeline.id), version: Number(json.pipeline.version), format: Number(json.format) };
    } catch {
      return null;
    }
  }

  /** The pipeline.json of a shard's component, as written; throws when it is not there. */
  pipelineJson(shard: string, component: string): string {
    return readFileSync(join(this.locationDir(shard), shard, 'defs', component, 'pipeline.json'), 'utf8');
  }

  /** The shard and component that hold a pipeline, looked up by the id in each pipeline.json. */
  findPipeline(pipelineId: string): { shard: string; component: string } | null {
    for (const shard of this.shardNames()) {
      for (const component of this.componentsIn(shard)) {
        if (this.memberOf(shard, component)?.pipelineId === pipelineId) return { shard, component };
      }
    }
    return null;
  }

  /** A shard's files as they are in place (what Python caches beside them left out); empty when it is not there. */
  readShard(shard: string): ShardFiles {
    const root = this.locationDir(shard);
    const files: ShardFiles = {};
    const walk = (rel: string) => {
      for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (entry.name !== '__pycache__') walk(path);
        } else if (!entry.name.endsWith('.pyc')) files[path] = readFileSync(join(root, path), 'utf8');
      }
    };
    if (existsSync(root)) walk('');
    return files;
  }

  /** Writes a location's files whole into .staging, where nothing loads them; returns the folder. */
  stage(name: string, files: Record<string, string>): string {
    const staging = join(this.dir, '.staging', `${name}-${tag()}`);
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(dirname(join(staging, file)), { recursive: true });
      writeFileSync(join(staging, file), content);
    }
    mkdirSync(staging, { recursive: true });
    return staging;
  }

  /**
   * Puts a staged folder in place as location `name` (or, with null, takes the location out), takes
   * the `remove` locations out in the same step, and rewrites workspace.yaml once. What was in place
   * is kept in .previous, named with `deploymentId` so that recovery can tell whose it is, until
   * the change is committed; rollback puts all of it back.
   */
  swapIn(name: string, staged: string | null, opts: { deploymentId?: string; remove?: string[] } = {}): WorkspaceChange {
    const id = tag();
    // Rendered before anything moves: a workspace.yaml that cannot be written (no gRPC port left
    // for a new shard) refuses the change with the workspace as it was.
    const gone = new Set([name, ...(opts.remove ?? [])]);
    const yaml = this.workspaceYaml([...this.locationNames().filter((n) => !gone.has(n)), ...(staged ? [name] : [])]);
    const kept: Array<{ location: string; dir: string }> = [];
    const keep = (location: string) => {
      const target = this.locationDir(location);
      if (!existsSync(target)) return;
      const dir = join(this.dir, '.previous', opts.deploymentId ? `${location}-${id}-${opts.deploymentId}` : `${location}-${id}`);
      mkdirSync(join(this.dir, '.previous'), { recursive: true });
      renameSync(target, dir);
      kept.push({ location, dir });
    };
    for (const location of opts.remove ?? []) if (location !== name) keep(location);
    keep(name);
    if (staged) {
      mkdirSync(join(this.dir, 'locations'), { recursive: true });
      renameSync(staged, this.locationDir(name));
    }
    this.writeYaml(yaml);
    return {
      removed: kept.filter((k) => k.location !== name).map((k) => k.location),
      rollback: () => {
        if (!kept.some((k) => k.location === name)) this.discard(this.locationDir(name));
        for (const k of kept) this.putBack(k.dir, k.location);
        this.writeWorkspaceYaml();
      },
      commit: () => {
        for (const k of kept) this.discard(k.dir);
      },
    };
  }

  removeLocation(name: string): boolean {
    const target = this.locationDir(name);
    if (!existsSync(target)) return false;
    this.discard(target);
    this.writeWorkspaceYaml();
    return true;
  }

  /** Folders only a deploy in the middle of a workspace change has: .staging and .trash entries. */
  scratch(): string[] {
    return ['.staging', '.trash'].flatMap((sub) => this.entries(sub).map((name) => join(this.dir, sub, name)));
  }

  /** The kept copies in .previous (a name it does not recognise is not one of ours: left alone). */
  keptCopies(): KeptCopy[] {
    return this.entries('.previous').flatMap((name) => {
      const match = KEPT_NAME.exec(name);
      return match ? [{ dir: join(this.dir, '.previous', name), location: match[1]!, deploymentId: match[2] ?? null }] : [];
    });
  }

  /** Puts a kept copy back as its location, in place of whatever is there, and rewrites workspace.yaml. */
  restore(copy: KeptCopy): void {
    this.putBack(copy.dir, copy.location);
    this.writeWorkspaceYaml();
  }

  /** Deletes a folder: renamed into .trash first (atomic), then removed. */
  discard(dir: string): void {
    if (!existsSync(dir)) return;
    mkdirSync(join(this.dir, '.trash'), { recursive: true });
    const trash = join(this.dir, '.trash', `${basename(dir)}-${tag()}`);
    renameSync(dir, trash);
    rmSync(trash, { recursive: true, force: true });
  }

  /** workspace.yaml from the location folders present, after the system location, written atomically (temp file + rename). */
  writeWorkspaceYaml(): void {
    this.writeYaml(this.workspaceYaml(this.locationNames()));
  }

  /** The locations in place (folders that hold one). */
  private locationNames(): string[] {
    return this.entries('locations').filter((n) => this.hasLocation(n)).sort();
  }

  /** workspace.yaml's text for `names`; gRPC ports are kept from the file in place (see renderWorkspaceYaml). */
  private workspaceYaml(names: string[]): string {
    return renderWorkspaceYaml(this.env, names, (name) => this.locationDir(name), this.readYaml());
  }

  private readYaml(): string | null {
    try {
      return readFileSync(join(this.dir, 'workspace.yaml'), 'utf8');
    } catch {
      return null;
    }
  }

  private writeYaml(yaml: string): void {
    mkdirSync(this.dir, { recursive: true });
    const temp = join(this.dir, `.workspace.yaml.${tag()}`);
    writeFileSync(temp, yaml);
    renameSync(temp, join(this.dir, 'workspace.yaml'));
    // A cluster's images and manifests follow the same changes (target: kubernetes; none otherwise).
    writeClusterFiles(this);
  }

  /**
   * Rewrites workspace.yaml when it lacks the system location (one written before there was one,
   * or by hand); true when it did. Call it under the environment's workspace lock, as every writer.
   */
  addSystemEntry(): boolean {
    if (this.locationNamesInYaml().includes(SYSTEM_LOCATION)) return false;
    this.writeWorkspaceYaml();
    return true;
  }

  /** The location names workspace.yaml lists; none when it is missing or unreadable. */
  private locationNamesInYaml(): string[] {
    return locationNamesIn(this.readYaml());
  }

  private putBack(kept: string, name: string): void {
    const target = this.locationDir(name);
    this.discard(target);
    mkdirSync(join(this.dir, 'locations'), { recursive: true });
    renameSync(kept, target);
  }

  private entries(sub: string): string[] {
    const dir = join(this.dir, sub);
    return existsSync(dir) ? readdirSync(dir) : [];
  }
}
