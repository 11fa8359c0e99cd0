import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { PIPELINE, flagshipSpec, typesFor } from '../compile/fixtures.ts';
import { validateLocations, validateWithCli, type Verdict } from '../support/validate-locations.ts';

// The property test trusts test/support/validate_locations.py to conclude what
// `dagster definitions validate` concludes. Here both judge the same locations: one that loads and
// several broken in different places (a name Dagster reserves while the module runs, a partition
// range only the asset-graph check after loading catches, a module whose data file is missing).
const withSpec = (change: (spec: PipelineSpec) => void) => {
  const spec = flagshipSpec();
  change(spec);
  return compilePipeline(PIPELINE, spec, typesFor(spec)).files;
};
const LOCATIONS: Record<string, Record<string, string>> = {
  good: withSpec(() => {}),
  reserved_name: withSpec((spec) => {
    spec.schedules[0]!.id = 'input';
  }),
  year_one: withSpec((spec) => {
    spec.partitions = { type: 'monthly', start_date: '0001-01-02', timezone: 'UTC' };
  }),
  no_pipeline_json: { 'definitions.py': withSpec(() => {})['definitions.py']! },
};

describe('the batch loader agrees with `dagster definitions validate`', () => {
  let dir: string;
  let batch: Map<string, Verdict>;
  let cliVerdicts: Map<string, Promise<{ ok: boolean; output: string }>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'constellation-validate-locations-'));
    for (const [location, files] of Object.entries(LOCATIONS)) {
      mkdirSync(join(dir, location));
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, location, name), content);
    }
    batch = new Map((await validateLocations(dir)).map((v) => [v.location, v]));
    // One CLI process per location (about 2 s each, more under load), started together.
    cliVerdicts = new Map(Object.keys(LOCATIONS).map((location) => [location, validateWithCli(join(dir, location))]));
    await Promise.allSettled(cliVerdicts.values());
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('judges every location, in one process', () => {
    expect([...batch.keys()]).toEqual(Object.keys(LOCATIONS).sort());
    expect(batch.get('good')).toEqual({ location: 'good', ok: true, error: null, trace: null });
  });

  it.each(Object.keys(LOCATIONS))('%s: same verdict and same error as the CLI', async (location) => {
    const cli = await cliVerdicts.get(location)!;
    const verdict = batch.get(location)!;
    expect(verdict.ok, `${verdict.error}\n--- CLI\n${cli.output}`).toBe(cli.ok);
    expect(verdict.ok).toBe(location === 'good');
    // The CLI prints the same message (its first line) for a location that fails.
    if (!verdict.ok) expect(cli.output).toContain(verdict.error!.split('\n')[0]);
  });
});
