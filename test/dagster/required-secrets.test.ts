import { describe, expect, it } from 'vitest';
import { requiredSecrets } from '../../src/dagster/required-secrets.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { typesFor } from '../compile/fixtures.ts';
import { seed004Spec } from '../compile/seed-004.ts';

const blockOf = (spec: PipelineSpec, id: string) => spec.blocks.find((b) => b.id === id)!;

describe('requiredSecrets', () => {
  it('asks a DuckDB-only stack for the tokens it uses, not for the Postgres URLs of paths it does not take', () => {
    const spec = seed004Spec();
    expect(requiredSecrets(spec, typesFor(spec))).toEqual([
      { name: 'AIRBYTE_API_TOKEN', path: '/blocks/1/type' },
      { name: 'DATAHUB_GMS_TOKEN', path: '/blocks/5/type' },
    ]);
  });

  it('asks for each conditional secret once its config takes the path that reads it, under the name the config gives', () => {
    const spec = seed004Spec();
    Object.assign(blockOf(spec, 'check_issues').config, { database: 'postgres', connection_secret: 'WAREHOUSE_PG_URL' });
    Object.assign(blockOf(spec, 'load_tracker').config, { destination: 'postgres' });
    const needed = requiredSecrets(spec, typesFor(spec)).map((s) => s.name);
    expect(needed).toEqual(expect.arrayContaining(['WAREHOUSE_PG_URL', 'DLT_DESTINATION_CREDENTIALS']));
    expect(needed).not.toContain('DLT_SOURCE_CREDENTIALS');
  });

  it('asks for the source credentials of a database source, or of a REST API with an auth block', () => {
    const sqlSource = seed004Spec();
    Object.assign(blockOf(sqlSource, 'load_tracker').config, { source: 'sql_database', source_config: { table_names: ['issues'] } });
    expect(requiredSecrets(sqlSource, typesFor(sqlSource)).map((s) => s.name)).toContain('DLT_SOURCE_CREDENTIALS');

    const withAuth = seed004Spec();
    const client = (blockOf(withAuth, 'load_tracker').config.source_config as { client: Record<string, unknown> }).client;
    client.auth = { type: 'bearer' };
    expect(requiredSecrets(withAuth, typesFor(withAuth))).toContainEqual({ name: 'DLT_SOURCE_CREDENTIALS', path: '/blocks/0/type' });
  });
});
