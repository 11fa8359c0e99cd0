import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { CONVERTERS } from '../../src/pipelines/validation/check-ports.ts';

const seedBlocks = [
  'postgres_incremental_extract', 'clickhouse_replacing_merge_tree_load', 'duckdb_load', 'airbyte_sync', 'dlt_ingestion',
  'dbt_run', 'dbt_test', 'great_expectations_validation', 'datahub_metadata_ingestion', 's3_files', 'iceberg_table_read',
  'iceberg_table_write', 'feature_engineering', 'cron_schedule', 'file_arrival_sensor', 'github_release_sensor',
  'data_quality_alert_sensor',
];

describe('block manifests', () => {
  const manifests = loadManifests();

  it('cover every block the seeds name', () => {
    expect(manifests.map((m) => m.slug)).toEqual(expect.arrayContaining(seedBlocks));
  });

  it('give the Postgres incremental extract its cursor columns, key, batch size and secret name', () => {
    const pg = manifests.find((m) => m.slug === 'postgres_incremental_extract')!;
    const props = pg.config_schema.properties as Record<string, { default?: unknown }>;
    expect(props.created_at_column?.default).toBe('created_at');
    expect(props.updated_at_column?.default).toBe('updated_at');
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['table', 'primary_key', 'batch_size', 'connection_secret']));
    expect(pg.secrets.map((s) => s.name)).toContain('POSTGRES_URL');
  });

  it('have the converters that validation hints name, taking and making the port types they are named for', () => {
    expect(Object.keys(CONVERTERS)).toContain('files->table');
    for (const [conversion, slug] of Object.entries(CONVERTERS)) {
      const [from, to] = conversion.split('->');
      const converter = manifests.find((m) => m.slug === slug);
      expect(converter?.inputs.map((p) => p.type), slug).toContain(from);
      expect(converter?.outputs.map((p) => p.type), slug).toContain(to);
    }
  });

  it('name secrets, never hold their values', () => {
    for (const m of manifests) {
      for (const s of m.secrets) expect(s.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(JSON.stringify(m.config_schema)).not.toMatch(/postgres(ql)?:\/\/\w+:\w+@/);
    }
  });

  it('stop start-up naming the file and field when one is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ slug: 'broken', version: 0, name: 'Broken' }));
    writeFileSync(join(dir, 'not_json.json'), '{ nope');
    expect(() => loadManifests(dir)).toThrow(/broken\.json: \/version[\s\S]*not_json\.json: not valid JSON/);
  });

  it('reject a config_schema that is not a usable JSON Schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    const good = manifests.find((m) => m.slug === 'duckdb_load')!;
    writeFileSync(join(dir, 'duckdb_load.json'), JSON.stringify({ ...good, config_schema: { type: 'object', properties: { a: { type: 'not-a-type' } } } }));
    expect(() => loadManifests(dir)).toThrow(/duckdb_load\.json: \/config_schema is not a usable JSON Schema/);
  });

  it('reject a block-reference marker that names no category, or sits on a field that is not a string', () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    const good = manifests.find((m) => m.slug === 'data_quality_alert_sensor')!;
    const config_schema = {
      type: 'object',
      properties: {
        monitored_checks: { type: 'array', items: { type: 'string', 'x-block-ref': { categories: ['qualty'] } } },
        watched: { type: 'integer', 'x-block-ref': { categories: ['source'] } },
      },
    };
    writeFileSync(join(dir, 'data_quality_alert_sensor.json'), JSON.stringify({ ...good, config_schema }));
    expect(() => loadManifests(dir)).toThrow(/\/config_schema\/properties\/monitored_checks\/items\/x-block-ref\/categories\/0[\s\S]*\/config_schema\/properties\/watched\/x-block-ref: x-block-ref belongs on a string schema/);
  });

  it('mark the data-quality sensor\'s monitored checks as naming quality blocks', () => {
    const sensor = manifests.find((m) => m.slug === 'data_quality_alert_sensor')!;
    expect(sensor.config_schema.properties).toMatchObject({ monitored_checks: { items: { 'x-block-ref': { categories: ['quality'] } } } });
  });
});
