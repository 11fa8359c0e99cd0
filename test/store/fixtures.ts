import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';

/** The smallest spec a pipeline row needs: the store tests care about the rows, not the spec. */
export const spec = (name: string): PipelineSpec => ({
  name,
  blocks: [{ id: 'extract', type: 'postgres_incremental_extract@1', config: { table: 'customers' } }],
  edges: [],
  jobs: [],
  schedules: [],
  sensors: [],
});
