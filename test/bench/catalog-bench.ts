import type { Db } from '../../src/adapters/store/db.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { CatalogRepo } from '../../src/catalog/catalog-repo.ts';
import { CatalogService } from '../../src/catalog/catalog-service.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import { pipelineSpecSchema, type PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { validateSpec } from '../../src/pipelines/validation/validate-spec.ts';
import { generateManifests, generatePipeline } from './generate.ts';
import { quantile, sideBySide, type Row } from './measure.ts';

const QUERIES = ['postgres', 'clickhouse load', 'incremental extract', 'dbt', 'quality', 'salesforce sync', 'orders', 'parquet export', 'kafka events', 'feature'];

/** Search over a 10,000-type catalog, and validating and compiling a 500-block pipeline. */
export async function catalogBench(db: Db): Promise<Row[]> {
  const repo = new CatalogRepo(db);
  const catalog = new CatalogService(repo);
  const builtins = loadManifests();
  await repo.upsert(builtins);
  await repo.upsert(generateManifests(10_000 - builtins.length));

  for (const q of QUERIES) await catalog.search(LOCAL_PRINCIPAL, { query: q }); // warm up
  const search: number[] = [];
  const ilike: number[] = [];
  for (let round = 0; round < 30; round++) {
    for (const q of QUERIES) {
      const [a, b] = await sideBySide(1, () => catalog.search(LOCAL_PRINCIPAL, { query: q }), () => repo.scanIlike(LOCAL_PRINCIPAL.orgId, q));
      search.push(...a);
      ilike.push(...b);
    }
  }

  const source = catalog.sourceFor(LOCAL_PRINCIPAL);
  const big = generatePipeline(500);
  const report = await validateSpec(big, source);
  if (!report.valid || !report.spec) throw new Error(`the generated pipeline should be valid: ${JSON.stringify(report.errors.slice(0, 3))}`);
  const spec: PipelineSpec = report.spec;
  const types = new Map((await source.lookup(['postgres_incremental_extract', 'duckdb_load'])).map((t) => [t.ref, t]));
  const typeOf = new Map(spec.blocks.map((b) => [b.id, types.get(b.type)!]));
  const identity = { id: '6f1c2d3e-0000-4000-8000-000000000000', name: 'bench', description: null, version: 1, slug: 'bench', orgSlug: 'local' };
  for (let i = 0; i < 5; i++) compilePipeline(identity, spec, typeOf);
  const [validate, shape] = await sideBySide(40, () => validateSpec(big, source), () => pipelineSpecSchema.parse(big));
  const [compile] = await sideBySide(40, () => compilePipeline(identity, spec, typeOf), () => undefined);

  return [
    { measure: 'block search p50, 10,000 types (ranked index + revision check)', value: quantile(search, 0.5), baseline: 'ILIKE scan p50, same rows', baselineValue: quantile(ilike, 0.5), ratio: 'faster', target: '< 2 ms' },
    { measure: 'block search p95', value: quantile(search, 0.95), baseline: 'ILIKE scan p95', baselineValue: quantile(ilike, 0.95), ratio: 'faster', target: '' },
    { measure: 'validate a 500-block pipeline p50', value: quantile(validate, 0.5), baseline: 'zod shape parse only p50', baselineValue: quantile(shape, 0.5), ratio: 'times', target: '< 20 ms' },
    { measure: 'compile a 500-block pipeline p50', value: quantile(compile, 0.5), baseline: 'validate the same pipeline p50', baselineValue: quantile(validate, 0.5), ratio: 'times', target: '< 50 ms' },
  ];
}
