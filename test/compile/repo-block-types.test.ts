import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import { PIPELINE, REPO_PACKAGE_NAME, flagshipSpec, lakeSpec, repoBlockType, repoSpec, typesFor, typesWith } from './fixtures.ts';

const json = (text: string | undefined) => JSON.parse(text!) as Record<string, any>;

// Block types registered from a code repository (docs/code-repositories.md) compile like the
// library's own, their step function named in pipeline.json and their package listed to ship.
describe('compiling block types from code repositories', () => {
  it('builds a repository type: no resource, its repository requirements, its package, its callable in repo_block_types', () => {
    const type = repoBlockType({ requirements: ['humanize==4.12.3'] });
    const spec = repoSpec(type);
    const compiled = compilePipeline(PIPELINE, spec, typesWith(spec, [type]));
    expect(compiled.packages).toEqual([REPO_PACKAGE_NAME]);
    expect(compiled.requirements).toEqual(['duckdb==1.5.6', 'humanize==4.12.3']);
    const pipeline = json(compiled.files['pipeline.json']);
    expect(pipeline.repo_block_types).toEqual({ 'etl_blocks__greeting_rows@1': { callable: `${REPO_PACKAGE_NAME}.greeting:make_rows` } });
    expect(pipeline.blocks.greet).toMatchObject({ type: 'etl_blocks__greeting_rows@1', resource_key: null, config: { names: ['Ada', 'Grace'] }, inputs: [] });
    expect(pipeline.blocks.load.inputs).toEqual([{ port: 'rows', upstream: ['greet'], multiple: false }]);
  });

  it('lists a type\'s secrets with the config field that may name their variable', () => {
    const type = repoBlockType({ secrets: true });
    const spec = repoSpec(type);
    const pipeline = json(compilePipeline(PIPELINE, spec, typesWith(spec, [type])).files['pipeline.json']);
    expect(pipeline.repo_block_types['etl_blocks__greeting_rows@1']).toEqual({
      callable: `${REPO_PACKAGE_NAME}.greeting:make_rows`,
      secrets: [{ name: 'GREETING_API_TOKEN', config_field: 'token_env' }],
    });
  });

  it('ships each commit\'s package once, sorted, and a new commit changes the content hash', () => {
    const older = repoBlockType({ pkg: 'constellation_repo_etl_blocks_0123456789ab' });
    const newer = repoBlockType({ version: 2, pkg: 'constellation_repo_etl_blocks_fedcba987654' });
    const spec = repoSpec(older);
    spec.blocks.push({ id: 'greet_again', type: newer.ref, config: {} }, { id: 'greet_thrice', type: older.ref, config: { names: ['Linus'] } });
    const both = compilePipeline(PIPELINE, spec, typesWith(spec, [older, newer]));
    expect(both.packages).toEqual(['constellation_repo_etl_blocks_0123456789ab', 'constellation_repo_etl_blocks_fedcba987654']);
    expect(Object.keys(json(both.files['pipeline.json']).repo_block_types)).toEqual(['etl_blocks__greeting_rows@1', 'etl_blocks__greeting_rows@2']);

    // The same block and config on another commit's package: other bytes, another hash.
    const one = repoSpec(older);
    const moved = repoBlockType({ pkg: 'constellation_repo_etl_blocks_fedcba987654' });
    const before = compilePipeline(PIPELINE, one, typesWith(one, [older]));
    const after = compilePipeline(PIPELINE, one, typesWith(one, [moved]));
    expect(after.packages).toEqual(['constellation_repo_etl_blocks_fedcba987654']);
    expect(after.contentHash).not.toBe(before.contentHash);
  });

  it('leaves every other pipeline as it was: no repo_block_types key, no package', () => {
    for (const spec of [flagshipSpec(), lakeSpec()]) {
      const compiled = compilePipeline(PIPELINE, spec, typesFor(spec));
      expect(compiled.packages).toEqual([]);
      expect(compiled.files['pipeline.json']).not.toContain('repo_block_types');
      expect(Object.keys(json(compiled.files['pipeline.json']))).toEqual(['blocks', 'format', 'jobs', 'namespace', 'partitions', 'pipeline', 'run_tags', 'schedules', 'sensors']);
    }
  });

  it('still refuses a type that neither the library nor a repository implements, naming it', () => {
    const spec = repoSpec();
    // The catalog's view without origin: an unknown, unregistered type.
    const { origin: _origin, ...bare } = repoBlockType();
    expect(() => compilePipeline(PIPELINE, spec, typesWith(spec, [{ ...bare }]))).toThrow(/cannot be compiled yet/);
  });
});
