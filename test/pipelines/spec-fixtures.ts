import { afterAll, beforeAll, expect } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import type { Issue } from '../../src/errors.ts';
import { validateSpec, type BlockTypeSource, type ValidationReport } from '../../src/pipelines/validation/validate-spec.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Small specs that validation tests break one thing in, and helpers that read a report.

/** Names that pass `^[a-z][a-z0-9_]*$` and the Python keyword list, but that Dagster refuses (issue 11). */
export const DAGSTER_ONLY = ['input', 'output', 'str', 'dict', 'int', 'float', 'bool', 'meta', 'conf', 'arg_dict', 'input_arg_dict', 'output_arg_dict'];

export type Block = { id: string; type: string; config?: Record<string, unknown> };

export const extract = (id = 'extract', config: Record<string, unknown> = { table: 'public.orders' }): Block => ({ id, type: 'postgres_incremental_extract@1', config });
export const load = (id = 'load', config: Record<string, unknown> = { table: 'orders', order_by: ['id'] }): Block => ({ id, type: 'clickhouse_replacing_merge_tree_load@1', config });
export const transform = (id: string, sql = 'SELECT 1'): Block => ({ id, type: 'duckdb_sql_transform@1', config: { sql } });
export const s3Files = (id: string): Block => ({ id, type: 's3_files@1', config: { bucket: 'landing', endpoint_url: 'http://garage:3900' } });
export const s3Write = (id: string, extra: Record<string, unknown> = {}): Block => ({ id, type: 's3_files_write@1', config: { bucket: 'exports', endpoint_url: 'http://garage:3900', ...extra } });
/** dlt loading a REST API into DuckDB: its output is `tables` (tables in a database), what quality and dbt blocks take. */
export const ingest = (id = 'ingest'): Block => ({
  id,
  type: 'dlt_ingestion@1',
  config: { pipeline_name: id, source: 'rest_api', duckdb_path: '/data/warehouse.duckdb', source_config: { client: { base_url: 'https://api.example.com/v1/' }, resources: ['orders'] } },
});
export const edge = (from: string, fromPort: string, to: string, toPort: string) => ({ from: { block: from, port: fromPort }, to: { block: to, port: toPort } });

/** The smallest valid pipeline (extract → load); tests break one thing in it. */
export const pair = (extractId = 'extract', loadId = 'load', more: Record<string, unknown> = {}) => ({
  name: 'orders to clickhouse',
  blocks: [extract(extractId), load(loadId)],
  edges: [edge(extractId, 'rows', loadId, 'rows')],
  ...more,
});

/** Every error as "code path", so a test fails on a missing error and on a stray extra one. */
export const where = (issues: Issue[]) => issues.map((i) => `${i.code} ${i.path}`);

/**
 * Validation against the real built-in catalog of a test app started for the file: `report`
 * validates; `errors` also expects the spec invalid, each error with a message and a hint.
 */
export function validatorWithCatalog() {
  let t: TestApp;
  let source: BlockTypeSource;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    source = t.services.catalog.sourceFor(LOCAL_PRINCIPAL);
  });
  afterAll(() => t.close());
  return { ...validator(() => source), app: () => t };
}

function validator(source: () => BlockTypeSource) {
  async function report(spec: unknown): Promise<ValidationReport & { spec?: unknown }> {
    const result = await validateSpec(spec, source());
    expect(result.valid).toBe(result.errors.length === 0);
    return result;
  }
  async function errors(spec: unknown): Promise<Issue[]> {
    const result = await report(spec);
    expect(result.valid).toBe(false);
    for (const issue of result.errors) {
      expect(issue.message.length).toBeGreaterThan(5);
      expect(issue.hint?.length ?? 0).toBeGreaterThan(5);
    }
    return result.errors;
  }
  return { report, errors };
}
