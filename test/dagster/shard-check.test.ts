import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardChecker } from '../../src/adapters/dagster/shard-check.ts';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { withMember, type ShardFiles } from '../../src/dagster/shard-files.ts';
import { writeShard } from '../support/shard-dir.ts';
import { PIPELINE, flagshipSpec, typesFor } from '../compile/fixtures.ts';

const SHARD = 'local_shard_1';

/** The flagship pipeline compiled under two slugs, as one shard holds them. */
function twoPipelines(): ShardFiles {
  const spec = flagshipSpec();
  const one = compilePipeline(PIPELINE, spec, typesFor(spec));
  const two = compilePipeline({ ...PIPELINE, id: '6f1c2d3e-0000-4000-8000-000000000002', slug: 'customers_copy' }, spec, typesFor(spec));
  return withMember(SHARD, withMember(SHARD, {}, one), two);
}

const broken = (files: ShardFiles) => {
  const path = `${SHARD}/defs/customers_copy/pipeline.json`;
  return { ...files, [path]: files[path]!.replace('"SOURCE_DB_URL"', '"not a variable name"') };
};

// The load check in the real Python with the real block library: what deploy asks before it swaps
// a staged shard in.
describe('the shard load check (python -m constellation_blocks.check_shard)', () => {
  let root: string;
  let checker: ShardChecker;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'constellation-shard-check-'));
    checker = new ShardChecker(DEFAULT_PYTHON);
  });
  afterAll(() => {
    checker?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('lists what a shard that loads defines: each pipeline under its own prefix and names', async () => {
    const answer = await checker.check(writeShard(join(root, 'good'), twoPipelines()));
    expect(answer).toMatchObject({ ok: true });
    if (!answer.ok) return;
    expect(answer.definitions.assets).toEqual([
      ['local', 'customers_clickhouse', 'extract_customers'],
      ['local', 'customers_clickhouse', 'load_customers'],
      ['local', 'customers_copy', 'extract_customers'],
      ['local', 'customers_copy', 'load_customers'],
    ]);
    expect(answer.definitions.jobs).toHaveLength(2);
    expect(answer.definitions.schedules).toHaveLength(2);
    expect(answer.definitions).toMatchObject({ asset_checks: [], sensors: [] });
  }, 60_000);

  it("answers Dagster's error for a shard one of whose pipelines does not load", async () => {
    const answer = await checker.check(writeShard(join(root, 'broken'), broken(twoPipelines())));
    expect(answer.ok).toBe(false);
    if (answer.ok) return;
    expect(answer.error).toMatch(/customers_copy\/pipeline\.json: blocks\.extract_customers\.config\.connection_secret must name an environment variable/);
  }, 60_000);

  it('reads the files afresh on every check, and is fast once warm', async () => {
    const dir = join(root, 'changing');
    expect((await checker.check(writeShard(dir, twoPipelines()))).ok).toBe(true);
    expect((await checker.check(writeShard(dir, broken(twoPipelines())))).ok).toBe(false);
    const started = Date.now();
    expect((await checker.check(writeShard(dir, twoPipelines()))).ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
  }, 60_000);

  it('starts the warm checker again when it dies, and answers checks given at once in turn', async () => {
    const good = writeShard(join(root, 'again'), twoPipelines());
    const bad = writeShard(join(root, 'again-bad'), broken(twoPipelines()));
    await checker.check(good);
    process.kill(checker.warmPid!, 'SIGKILL');
    const answers = await Promise.all([checker.check(good), checker.check(bad), checker.check(good)]);
    expect(answers.map((a) => a.ok)).toEqual([true, false, true]);
  }, 60_000);

  it('gives the same answers in a process of its own per check', async () => {
    const oneShot = new ShardChecker(DEFAULT_PYTHON, { serve: false });
    expect(await oneShot.check(join(root, 'good'))).toEqual(await checker.check(join(root, 'good')));
    expect(oneShot.warmPid).toBeNull();
    const missing = new ShardChecker('/nonexistent/python', { serve: false });
    expect(await missing.check(join(root, 'good'))).toEqual({ ok: false, unready: true, error: expect.stringContaining('could not start /nonexistent/python') });
  }, 60_000);

  it('tells a Python that cannot run the check at all (no block library yet) from a shard that does not load', async () => {
    // The machine's own python3, without the virtualenv's packages: as while npm run dagster installs them.
    const bare = new ShardChecker('python3');
    try {
      expect(await bare.check(join(root, 'good'))).toEqual({ ok: false, unready: true, error: expect.stringMatching(/No module named '?constellation_blocks|finding module specification for 'constellation_blocks/) });
    } finally {
      bare.close();
    }
    const badShard = await checker.check(writeShard(join(root, 'not-ready-bad'), broken(twoPipelines())));
    expect(badShard.ok === false && badShard.unready).toBeFalsy();
  }, 60_000);
});
