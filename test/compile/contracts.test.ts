import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { PIPELINE, featuresSpec, flagshipSpec, typesFor } from './fixtures.ts';

// What a table input needs of the tables it receives travels in pipeline.json, for the block
// library to check at run time (see test/pipelines/contracts.test.ts for validation).

describe('compiled contracts', () => {
  const inputsOf = (spec: PipelineSpec, block: string) => JSON.parse(compilePipeline(PIPELINE, spec, typesFor(spec)).files['pipeline.json']!).blocks[block].inputs;

  it('pipeline.json carries the columns each table input needs, from its config with defaults', () => {
    expect(inputsOf(flagshipSpec(), 'load_customers')).toEqual([
      { port: 'rows', upstream: ['extract_customers'], multiple: false, columns: [{ name: 'id', type: null }, { name: 'updated_at', type: null }] },
    ]);
  });

  it('carries the entity key and time column a feature block reads', () => {
    expect(inputsOf(featuresSpec(), 'customer_features')[0].columns).toEqual([{ name: 'customer_id', type: null }, { name: 'created_at', type: null }]);
  });

  it('writes no columns for an input that needs none, so such a pipeline compiles as before', () => {
    const spec = flagshipSpec();
    spec.blocks[1] = { id: 'load_customers', type: 'duckdb_load@1', config: { database_path: '/tmp/w.duckdb', table: 'main.customers' } };
    expect(inputsOf(spec, 'load_customers')).toEqual([{ port: 'rows', upstream: ['extract_customers'], multiple: false }]);
  });

  it('names each needed column once, even when two config fields name it', () => {
    const spec = flagshipSpec();
    spec.blocks[1]!.config = { ...spec.blocks[1]!.config, order_by: ['updated_at', 'id'], version_column: 'updated_at' };
    expect(inputsOf(spec, 'load_customers')[0].columns).toEqual([{ name: 'updated_at', type: null }, { name: 'id', type: null }]);
  });
});
