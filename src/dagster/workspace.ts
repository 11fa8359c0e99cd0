import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from './environments.ts';

/**
 * One environment's workspace directory:
 *   workspace.yaml            what Dagster loads, derived from the folders below
 *   locations/<name>/         one code location per deployed pipeline
 *   .staging/, .previous/     where a location is written, and where the one it replaced waits
 * A location is written whole into .staging and renamed into place, so Dagster never sees half
 * of one; the location it replaced is kept until the new one is known to load.
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
   * (back to the previous files, or to no location at all) and how to drop the kept copy.
   */
  replaceLocation(name: string, files: Record<string, string>): { rollback(): void; commit(): void } {
    const tag = randomBytes(6).toString('hex');
    const staging = join(this.dir, '.staging', `${name}-${tag}`);
    mkdirSync(staging, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(join(staging, file), content);

    const target = this.locationDir(name);
    mkdirSync(join(this.dir, 'locations'), { recursive: true });
    let previous: string | null = null;
    if (existsSync(target)) {
      previous = join(this.dir, '.previous', `${name}-${tag}`);
      mkdirSync(join(this.dir, '.previous'), { recursive: true });
      renameSync(target, previous);
    }
    renameSync(staging, target);
    this.writeWorkspaceYaml();
    return {
      rollback: () => {
        rmSync(target, { recursive: true, force: true });
        if (previous) renameSync(previous, target);
        this.writeWorkspaceYaml();
      },
      commit: () => {
        if (previous) rmSync(previous, { recursive: true, force: true });
      },
    };
  }

  removeLocation(name: string): boolean {
    const target = this.locationDir(name);
    if (!existsSync(target)) return false;
    rmSync(target, { recursive: true, force: true });
    this.writeWorkspaceYaml();
    return true;
  }

  /** workspace.yaml from the location folders present, written atomically (temp file + rename). */
  writeWorkspaceYaml(): void {
    mkdirSync(this.dir, { recursive: true });
    const root = join(this.dir, 'locations');
    const names = existsSync(root) ? readdirSync(root).filter((n) => this.hasLocation(n)).sort() : [];
    // Names are generated (pipeline_<hex>) and paths are ours, so plain YAML scalars are safe.
    const entries = names.map(
      (name) =>
        `  - python_file:\n      relative_path: locations/${name}/definitions.py\n      working_directory: locations/${name}\n` +
        `      location_name: ${name}\n      executable_path: ${JSON.stringify(this.env.python)}\n`,
    );
    const yaml = `# Written by Constellation Agent: one entry per deployed pipeline. Do not edit by hand.\nload_from:${entries.length ? `\n${entries.join('')}` : ' []\n'}`;
    const temp = join(this.dir, `.workspace.yaml.${randomBytes(6).toString('hex')}`);
    writeFileSync(temp, yaml);
    renameSync(temp, join(this.dir, 'workspace.yaml'));
  }
}
