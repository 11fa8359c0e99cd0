import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Environment } from './environments.ts';

/** A location's files as they were before a deploy replaced them, kept in .previous until it settles. */
export interface KeptCopy {
  dir: string;
  location: string;
  /** The deployment that replaced them; null in copies named before deployments were named in them. */
  deploymentId: string | null;
}

const tag = () => randomBytes(6).toString('hex');
// .previous/<location>-<tag>[-<deployment id>]; location names (pipeline_<hex>) have no "-".
const KEPT_NAME = /^([^-]+)-[0-9a-f]{12}(?:-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?$/;

/**
 * One environment's workspace directory:
 *   workspace.yaml            what Dagster loads, derived from the folders below
 *   locations/<name>/         one code location per deployed pipeline
 *   .staging/, .previous/     where a location is written, and where the one it replaced waits
 *   .trash/                   where a folder goes (one rename) on its way to being deleted
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

  hasLocation(name: string): boolean {
    return existsSync(join(this.locationDir(name), 'definitions.py'));
  }

  /**
   * Puts `files` in place as location `name` and rewrites workspace.yaml. Returns how to undo it
   * (back to the previous files, or to no location at all) and how to drop the kept copy. The kept
   * copy's name carries `deploymentId`, so that recovery can tell whose it is.
   */
  replaceLocation(name: string, files: Record<string, string>, deploymentId?: string): { rollback(): void; commit(): void } {
    const id = tag();
    const staging = join(this.dir, '.staging', `${name}-${id}`);
    mkdirSync(staging, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(staging, file), content);

    const target = this.locationDir(name);
    mkdirSync(join(this.dir, 'locations'), { recursive: true });
    let previous: string | null = null;
    if (existsSync(target)) {
      previous = join(this.dir, '.previous', deploymentId ? `${name}-${id}-${deploymentId}` : `${name}-${id}`);
      mkdirSync(join(this.dir, '.previous'), { recursive: true });
      renameSync(target, previous);
    }
    renameSync(staging, target);
    this.writeWorkspaceYaml();
    return {
      rollback: () => {
        if (previous) this.putBack(previous, name);
        else this.discard(target);
        this.writeWorkspaceYaml();
      },
      commit: () => {
        if (previous) this.discard(previous);
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

  /** workspace.yaml from the location folders present, written atomically (temp file + rename). */
  writeWorkspaceYaml(): void {
    mkdirSync(this.dir, { recursive: true });
    const names = this.entries('locations').filter((n) => this.hasLocation(n)).sort();
    // Names are generated (pipeline_<hex>) and paths are ours, so plain YAML scalars are safe.
    const entries = names.map(
      (name) =>
        `  - python_file:\n      relative_path: locations/${name}/definitions.py\n      working_directory: locations/${name}\n` +
        `      location_name: ${name}\n      executable_path: ${JSON.stringify(this.env.python)}\n`,
    );
    const yaml = `# Written by Constellation Agent: one entry per deployed pipeline. Do not edit by hand.\nload_from:${entries.length ? `\n${entries.join('')}` : ' []\n'}`;
    const temp = join(this.dir, `.workspace.yaml.${tag()}`);
    writeFileSync(temp, yaml);
    renameSync(temp, join(this.dir, 'workspace.yaml'));
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
