import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINES_PER_SHARD, loadEnvironments, tableStorageEnv } from '../../src/dagster/environments.ts';

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

describe('DAGSTER_ENVIRONMENTS: table_storage', () => {
  it('defaults to a folder per environment under DATA_DIR, and resolves a relative folder against the file', () => {
    expect(loadEnvironments({ dataDir: '/srv/data', defaultGraphqlUrl: '' }).get('development')!.tableStorage).toEqual({ url: '/srv/data/table-data/development' });
    const envs = load('environments:\n  development: {workspace_dir: ws, table_storage: {url: values}}\n  production: {workspace_dir: prod}\n');
    expect(envs.get('development')!.tableStorage!.url).toMatch(/^\/.*constellation-envs-[^/]+\/values$/);
    expect(envs.get('production')!.tableStorage!.url).toMatch(/\/table-data\/production$/);
  });

  it('takes an S3 prefix with its endpoint, and gives the Dagster processes their variables', () => {
    const storage = load('environments:\n  production: {workspace_dir: prod, table_storage: {url: "s3://lake-values/dagster", endpoint: "http://garage:3900", region: garage}}\n')
      .get('production')!.tableStorage!;
    expect(tableStorageEnv(storage)).toEqual({
      CONSTELLATION_TABLE_STORAGE: 's3://lake-values/dagster',
      CONSTELLATION_TABLE_STORAGE_ENDPOINT: 'http://garage:3900',
      CONSTELLATION_TABLE_STORAGE_REGION: 'garage',
    });
  });

  it('refuses an S3 prefix without an endpoint, and other URL schemes, naming the field', () => {
    expect(() => load('environments:\n  production: {workspace_dir: prod, table_storage: {url: "s3://lake/x"}}\n')).toThrow(/\/environments\/production\/table_storage\/endpoint/);
    expect(() => load('environments:\n  production: {workspace_dir: prod, table_storage: {url: "http://lake/x"}}\n')).toThrow(/\/environments\/production\/table_storage\/url: a folder path, or s3:\/\/bucket\/prefix/);
  });
});
