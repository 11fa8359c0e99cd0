// npm run bench: figures side by side with the baseline each was run against, in one run.
import { openDb } from '../../src/adapters/store/open-db.ts';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { CatalogRepo } from '../../src/catalog/catalog-repo.ts';
import { CatalogService } from '../../src/catalog/catalog-service.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { pipelineSpecSchema } from '../../src/pipelines/spec-schema.ts';
import { validateSpec } from '../../src/pipelines/validation/validate-spec.ts';
import { generateManifests, generatePipeline } from './generate.ts';

const QUERIES = ['postgres', 'clickhouse load', 'incremental extract', 'dbt', 'quality', 'salesforce sync', 'orders', 'parquet export', 'kafka events', 'feature'];

async function timeEach(rounds: number, fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

const quantile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

async function main() {
  const db = await openDb({});
  await ensureLocalPrincipal(db);
  const repo = new CatalogRepo(db);
  const catalog = new CatalogService(repo);
  await repo.upsert(loadManifests());
  await repo.upsert(generateManifests(10_000 - loadManifests().length));
  const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM block_types')) as [{ n: number }];

  // Interleave the two so machine noise hits both alike; warm up first.
  const search: number[] = [];
  const ilike: number[] = [];
  for (const q of QUERIES) {
    await catalog.search(LOCAL_PRINCIPAL, { query: q });
    await repo.scanIlike(LOCAL_PRINCIPAL.orgId, q);
  }
  for (let round = 0; round < 30; round++) {
    for (const q of QUERIES) {
      search.push(...(await timeEach(1, () => catalog.search(LOCAL_PRINCIPAL, { query: q }))));
      ilike.push(...(await timeEach(1, () => repo.scanIlike(LOCAL_PRINCIPAL.orgId, q))));
    }
  }

  const source = catalog.sourceFor(LOCAL_PRINCIPAL);
  const big = generatePipeline(500);
  const report = await validateSpec(big, source);
  if (!report.valid) throw new Error(`the generated 500-block pipeline should be valid: ${JSON.stringify(report.errors.slice(0, 3))}`);
  const small = generatePipeline(50);
  const shapeOnly: number[] = [];
  const full500: number[] = [];
  const full50: number[] = [];
  for (let i = 0; i < 5; i++) await validateSpec(big, source);
  for (let i = 0; i < 40; i++) {
    shapeOnly.push(...(await timeEach(1, async () => pipelineSpecSchema.parse(big))));
    full500.push(...(await timeEach(1, () => validateSpec(big, source))));
    full50.push(...(await timeEach(1, () => validateSpec(small, source))));
  }
  await db.close();

  const ms = (v: number) => `${v.toFixed(3)} ms`;
  const rows = [
    ['block search p50 (ranked index + revision check)', ms(quantile(search, 0.5)), 'ILIKE scan p50 (same rows)', ms(quantile(ilike, 0.5)), `${(quantile(ilike, 0.5) / quantile(search, 0.5)).toFixed(1)}x faster`, '< 2 ms'],
    ['block search p95', ms(quantile(search, 0.95)), 'ILIKE scan p95 (same rows)', ms(quantile(ilike, 0.95)), `${(quantile(ilike, 0.95) / quantile(search, 0.95)).toFixed(1)}x faster`, ''],
    ['validate 500-block pipeline p50', ms(quantile(full500, 0.5)), 'zod shape parse only p50', ms(quantile(shapeOnly, 0.5)), `${(quantile(full500, 0.5) / quantile(shapeOnly, 0.5)).toFixed(1)}x the parse`, '< 20 ms'],
    ['validate 500-block pipeline p50', ms(quantile(full500, 0.5)), 'validate 50-block p50', ms(quantile(full50, 0.5)), `${(quantile(full500, 0.5) / quantile(full50, 0.5)).toFixed(1)}x for 10x blocks`, ''],
  ];
  const header = ['measure', 'value', 'baseline', 'baseline value', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`catalog: ${n} block types in PGlite (in memory); ${QUERIES.length} queries x 30 rounds; validation x 40\n`);
  process.stdout.write([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
