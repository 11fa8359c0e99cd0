import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINES_PER_SHARD, loadEnvironments } from '../../src/dagster/environments.ts';

const load = (yaml: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-envs-'));
  writeFileSync(join(dir, 'environments.yaml'), yaml);
  return loadEnvironments({ file: join(dir, 'environments.yaml'), dataDir: dir, defaultGraphqlUrl: '' });
};

describe('DAGSTER_ENVIRONMENTS: pipelines_per_shard', () => {
  it('defaults to 100 pipelines per shard, and takes a positive whole number', () => {
    const envs = load('environments:\n  development: {workspace_dir: ws}\n  production: {workspace_dir: prod, pipelines_per_shard: 25}\n');
    expect(DEFAULT_PIPELINES_PER_SHARD).toBe(100);
    expect(envs.get('development')!.pipelinesPerShard).toBe(100);
    expect(envs.get('production')!.pipelinesPerShard).toBe(25);
    expect(loadEnvironments({ dataDir: '/tmp', defaultGraphqlUrl: '' }).get('development')!.pipelinesPerShard).toBe(100);
  });

  it('refuses a count that is not a positive whole number, naming the field', () => {
    for (const bad of ['0', '1.5', '"ten"']) {
      expect(() => load(`environments:\n  development: {workspace_dir: ws, pipelines_per_shard: ${bad}}\n`)).toThrow(/\/environments\/development\/pipelines_per_shard/);
    }
  });
});
