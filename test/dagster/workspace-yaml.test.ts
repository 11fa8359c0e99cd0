import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SYSTEM_LOCATION, Workspace } from '../../src/dagster/workspace.ts';
import { writeOnlyEnvironment } from '../support/test-app.ts';

const SYSTEM_ENTRY = (python: string) => ({ python_module: { module_name: 'constellation_blocks.system_location', location_name: SYSTEM_LOCATION, executable_path: python } });

/** workspace.yaml as the one writer makes it, on a real folder: the system location first, in every one of them. */
describe('workspace.yaml', () => {
  const fresh = () => {
    const workspace = new Workspace(writeOnlyEnvironment('development', { python: '/opt/envs/dev/bin/python' }));
    const yaml = () => readFileSync(join(workspace.dir, 'workspace.yaml'), 'utf8');
    return { workspace, yaml, entries: () => parseYaml(yaml()).load_from as Array<Record<string, any>> };
  };
  const place = (workspace: Workspace, name: string, file: string) => {
    mkdirSync(workspace.locationDir(name), { recursive: true });
    writeFileSync(join(workspace.locationDir(name), file), '');
  };

  it('lists the system location, from the installed block library with the environment python, before any pipeline is deployed', () => {
    const { workspace, entries } = fresh();
    workspace.writeWorkspaceYaml();
    expect(entries()).toEqual([SYSTEM_ENTRY('/opt/envs/dev/bin/python')]);
  });

  it('keeps it first, before the shards and a location deployed before shards', () => {
    const { workspace, entries } = fresh();
    place(workspace, 'pipeline_0123456789ab', 'definitions.py');
    place(workspace, 'acme_shard_1', 'pyproject.toml');
    workspace.writeWorkspaceYaml();
    expect(entries().map((e) => (e.python_module ?? e.python_file).location_name)).toEqual([SYSTEM_LOCATION, 'acme_shard_1', 'pipeline_0123456789ab']);
    // Taking the last location out leaves the system location.
    workspace.removeLocation('acme_shard_1');
    workspace.removeLocation('pipeline_0123456789ab');
    expect(entries()).toEqual([SYSTEM_ENTRY('/opt/envs/dev/bin/python')]);
  });

  it('adds it to a workspace.yaml written without it, and leaves one that has it as it is', () => {
    const { workspace, yaml, entries } = fresh();
    place(workspace, 'acme_shard_1', 'pyproject.toml');
    writeFileSync(join(workspace.dir, 'workspace.yaml'), 'load_from: []\n');
    expect(workspace.addSystemEntry()).toBe(true);
    expect(entries().map((e) => e.python_module.location_name)).toEqual([SYSTEM_LOCATION, 'acme_shard_1']);
    const written = yaml();
    expect(workspace.addSystemEntry()).toBe(false);
    expect(yaml()).toBe(written);
  });

  it('keeps it when a kept copy is put back, as workspace recovery does', () => {
    const { workspace, entries } = fresh();
    place(workspace, 'acme_shard_1', 'pyproject.toml');
    const change = workspace.swapIn('acme_shard_1', null, { deploymentId: '00000000-0000-4000-8000-000000000001' });
    expect(entries().map((e) => e.python_module.location_name)).toEqual([SYSTEM_LOCATION]);
    workspace.restore(workspace.keptCopies()[0]!);
    expect(entries().map((e) => e.python_module.location_name)).toEqual([SYSTEM_LOCATION, 'acme_shard_1']);
    change.commit();
  });
});
