import type { CompiledPipeline } from '../../src/compile/compile-pipeline.ts';

/**
 * The compiled pipeline with its Postgres secret renamed to `name`, which the block library refuses
 * when it loads the component: a pipeline that does not load, as a broken block would make it.
 * The API validates secret names as the library does, so only a test can send one this way.
 */
export const withSecretNamed = (compiled: CompiledPipeline, name: string): CompiledPipeline => ({
  ...compiled,
  files: { ...compiled.files, 'pipeline.json': compiled.files['pipeline.json']!.replace('"SOURCE_DB_URL"', JSON.stringify(name)) },
});
