import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardChecker } from '../../src/adapters/dagster/shard-check.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { compilePipeline, type CompiledPipeline } from '../../src/compile/compile-pipeline.ts';
import { DbtManifests } from '../../src/dagster/dbt-manifests.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { shardName, withMember, type ShardFiles } from '../../src/dagster/shard-files.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { validateSpec, type BlockTypeSource } from '../../src/pipelines/validation/validate-spec.ts';
import { isImplementedSensor } from '../../src/compile/block-recipes.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { BLOCK_CONFIGS, SENSOR_CONFIGS } from '../support/arbitraries/block-configs.ts';
import { nearMissSpec } from '../support/arbitraries/near-miss-spec.ts';
import { IMPLEMENTED_TYPES, validSpec, type Spec } from '../support/arbitraries/valid-spec.ts';
import type { ShardDefinitions } from '../../src/adapters/dagster/shard-check.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// The invariant of issue 11: a spec that validates compiles, and what compiles loads in Dagster;
// since issue 12, loads as one of many pipelines in a shared shard location. Each run draws a spec
// meant to be valid and a near miss (a valid spec bent toward what Dagster refuses). Both go
// through the real validation with the real catalog; every one that validates is compiled to its
// component, the components are placed in shards of SHARD_SIZE (as deploys place them), and every
// shard is loaded by the block library's own check (constellation_blocks.check_shard: Dagster's
// code-server load path) in one warm process. A shard that loads must list exactly each member's
// assets, jobs and schedules; a shard that does not is loaded again one member at a time to name
// the pipeline at fault. Every failure (a spec meant to be valid refused, a valid one not
// compiling, a pipeline not loading or listing other definitions than its spec declares) is
// reported once per kind, with a spec, its pipeline.json, the error and a replay:
// PROPERTY_SEED=<seed> PROPERTY_PATH=<run>.
const SEED = process.env.PROPERTY_SEED ? Number.parseInt(process.env.PROPERTY_SEED, 10) : Math.floor(Math.random() * 2 ** 31);
if (!Number.isSafeInteger(SEED)) throw new Error(`PROPERTY_SEED must be an integer, got ${process.env.PROPERTY_SEED}`);
const RUNS = Number(process.env.PROPERTY_RUNS ?? (process.env.PROPERTY_PATH ? 1 : 300));
const PATH = process.env.PROPERTY_PATH;
const SHARD_SIZE = 50;
const ORG = 'prop';
const replay = (run: number) => `PROPERTY_SEED=${SEED} PROPERTY_PATH=${run} npx vitest run --project e2e test/e2e/spec-loads.test.ts`;

type Intent = 'valid' | 'near-miss';
interface Drawn {
  run: number;
  intent: Intent;
  spec: Spec;
}
interface Compiled extends Drawn {
  component: CompiledPipeline;
}
/** A spec meant to be valid that validation refused, one that validated and did not compile, or a pipeline that did not load as declared. */
interface Failure extends Drawn {
  stage: 'validate' | 'compile' | 'load';
  error: string;
  detail: string;
  pipelineJson?: string;
}

let t: TestApp;
let source: BlockTypeSource;
let workDir: string;
let checker: ShardChecker;
let dbtManifests: DbtManifests;
beforeAll(async () => {
  t = await createTestApp('pglite');
  source = t.services.catalog.sourceFor(LOCAL_PRINCIPAL);
  workDir = mkdtempSync(join(tmpdir(), 'constellation-spec-loads-'));
  checker = new ShardChecker(DEFAULT_PYTHON);
  // dbt blocks load from the manifest a deploy parses and writes beside pipeline.json.
  dbtManifests = new DbtManifests({ cacheDir: join(workDir, 'dbt-manifests') });
});
afterAll(async () => {
  checker?.close();
  await t?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('a spec that validates compiles, and what compiles loads in Dagster', () => {
  it('has a config arbitrary for exactly the block types the compiler implements', () => {
    expect(IMPLEMENTED_TYPES.length).toBeGreaterThan(0);
    expect(Object.keys(BLOCK_CONFIGS).sort()).toEqual(IMPLEMENTED_TYPES.map((type) => type.ref).sort());
    const sensors = loadManifests().map((m) => `${m.slug}@${m.version}`).filter(isImplementedSensor);
    expect(Object.keys(SENSOR_CONFIGS).sort()).toEqual(sensors.sort());
  });

  it(`loads every generated spec that validates (seed ${SEED}, ${RUNS} runs${PATH ? `, from run ${PATH}` : ''})`, async ({ annotate }) => {
    await annotate(`fast-check seed ${SEED}, ${RUNS} runs; replay: ${replay(0).replace(/ PROPERTY_PATH=0/, '')}`);
    const startedAt = performance.now();
    const compiled: Compiled[] = [];
    const failures: Failure[] = [];
    const refused = new Map<string, number>();
    let run = PATH ? Number(PATH.split(':')[0]) : 0;

    const admit = async (drawn: Drawn) => {
      const report = await validateSpec(structuredClone(drawn.spec), source);
      if (!report.valid || !report.spec) {
        // A near miss may be refused; a spec meant to be valid must not be (else the generator
        // has drifted from the rules, or a rule refuses what it should take).
        if (drawn.intent === 'valid') {
          const error = report.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
          failures.push({ ...drawn, stage: 'validate', error, detail: `If the rule is right, teach test/support/arbitraries/valid-spec.ts.\n${JSON.stringify(report.errors, null, 1)}` });
        }
        for (const { code = 'unknown' } of report.errors) refused.set(code, (refused.get(code) ?? 0) + 1);
        return;
      }
      const pinned = await t.services.catalog.pinTypes(LOCAL_PRINCIPAL, report.spec);
      // The slug stands for the one a pipeline gets when it is created: unique in its org.
      const slug = `r${String(drawn.run).padStart(4, '0')}_${drawn.intent.replace('-', '_')}`;
      const pipelineId = `00000000-0000-4000-8000-${drawn.run.toString(16).padStart(11, '0')}${drawn.intent === 'valid' ? 'a' : 'b'}`;
      let component: CompiledPipeline;
      try {
        component = compilePipeline({ id: pipelineId, name: pinned.name, description: pinned.description ?? null, version: 1, slug, orgSlug: ORG }, pinned, await typesOf(pinned));
      } catch (error) {
        const issues = (error as { issues?: Array<{ code?: string; message: string }> }).issues ?? [];
        const message = [(error as Error).message, ...issues.map((i) => `${i.code}: ${i.message}`)].join(' ');
        failures.push({ ...drawn, stage: 'compile', error: message, detail: JSON.stringify(issues, null, 1) || String(error) });
        return;
      }
      compiled.push({ ...drawn, spec: pinned, component });
    };

    await fc.assert(
      fc.asyncProperty(validSpec, nearMissSpec, async (valid, nearMiss) => {
        const at = run++;
        await admit({ run: at, intent: 'valid', spec: valid });
        await admit({ run: at, intent: 'near-miss', spec: nearMiss });
      }),
      { seed: SEED, numRuns: RUNS, ...(PATH ? { path: PATH } : {}) },
    );

    const drawnAt = performance.now();
    const shards = inShards(compiled);
    for (const [n, members] of shards.entries()) failures.push(...(await loadShard(`${n + 1}`, members)));
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    await annotate(`drawn, validated and compiled in ${seconds(drawnAt - startedAt)}; ${shards.length} shards of up to ${SHARD_SIZE} loaded in ${seconds(performance.now() - drawnAt)}`);
    const nearMisses = compiled.filter((c) => c.intent === 'near-miss').length;
    await annotate(`${compiled.length - nearMisses} valid specs and ${nearMisses} near misses compiled and handed to Dagster; near misses refused by validation, by code: ${JSON.stringify(Object.fromEntries(refused))}`);
    if (process.env.PROPERTY_FAILURES_OUT) writeFileSync(process.env.PROPERTY_FAILURES_OUT, JSON.stringify({ seed: SEED, failures }, null, 1));
    expect(failures.length, describeFailures(failures)).toBe(0);
    expect(compiled.length - nearMisses).toBeGreaterThanOrEqual(Math.min(RUNS, 300));
  });
});

/** Compiled pipelines in placement order, SHARD_SIZE to a shard (as deploys fill an org's shards). */
function inShards(compiled: Compiled[]): Compiled[][] {
  const shards: Compiled[][] = [];
  for (let i = 0; i < compiled.length; i += SHARD_SIZE) shards.push(compiled.slice(i, i + SHARD_SIZE));
  return shards;
}

/** Writes a shard project of `members` under workDir and loads it: the failures it shows, one per member at fault. */
async function loadShard(tag: string, members: Compiled[]): Promise<Failure[]> {
  const shard = shardName(ORG, Number(tag.split('_')[0]));
  const dir = join(workDir, `${tag}`);
  let files: ShardFiles = {};
  for (const member of members) files = withMember(shard, files, await dbtManifests.withManifests(member.component, DEFAULT_PYTHON));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const verdict = await checker.check(dir);
  rmSync(dir, { recursive: true, force: true });
  if (verdict.ok) return members.flatMap((member) => listingFailure(member, verdict.definitions));
  // One pipeline that does not load takes its shard down: load each alone to name it.
  if (members.length === 1) return [{ ...members[0]!, stage: 'load', error: verdict.error, detail: verdict.error, pipelineJson: members[0]!.component.files['pipeline.json'] }];
  const alone = await Promise.all(members.map((member, i) => loadShard(`${tag.split('_')[0]}_${i}`, [member])));
  const failures = alone.flat();
  return failures.length ? failures : [{ ...members[0]!, stage: 'load', error: `shard ${tag} failed, but each of its ${members.length} pipelines loads alone: ${verdict.error}`, detail: verdict.error }];
}

/** Whether blocks of this type make assets; those that only check their upstream's (Great Expectations, dbt test) make none. */
const makesAssets = (ref: string) => IMPLEMENTED_TYPES.find((t) => t.ref === ref)?.compiles_to !== 'asset_check';

/** A member whose assets, jobs, schedules or sensors in the loaded shard are not exactly those its spec declares. */
function listingFailure(member: Compiled, defs: ShardDefinitions): Failure[] {
  const { component, spec } = member;
  const prefix = `${ORG}/${component.componentName}/`;
  const mine = (names: string[]) => names.filter((n) => n.startsWith(prefix)).sort();
  const expected = {
    assets: spec.blocks.filter((b) => makesAssets(b.type)).map((b) => `${prefix}${b.id}`).sort(),
    jobs: Object.values(component.dagsterJobs).map((name) => `${prefix}${name}`).sort(),
    schedules: JSON.parse(component.files['pipeline.json']!).schedules,
  };
  const scheduleNames = Object.values(expected.schedules as Record<string, { name: string }>).map((s) => `${prefix}${s.name}`).sort();
  const sensorNames = Object.values(JSON.parse(component.files['pipeline.json']!).sensors as Record<string, { name: string }>).map((s) => `${prefix}${s.name}`).sort();
  const actual = {
    // A block that makes several assets (dlt's tables, dbt's models) keys them under its own key.
    assets: [...new Set(mine(defs.assets.map((key) => key.slice(0, 3).join('/'))))].sort(),
    jobs: mine(defs.jobs.filter((job) => Object.values(component.dagsterJobs).includes(job)).map((job) => `${prefix}${job}`)),
    schedules: mine(defs.schedules.filter((name) => scheduleNames.includes(`${prefix}${name}`)).map((name) => `${prefix}${name}`)),
    sensors: mine(defs.sensors.filter((name) => sensorNames.includes(`${prefix}${name}`)).map((name) => `${prefix}${name}`)),
  };
  const problems = [
    ...(JSON.stringify(actual.assets) !== JSON.stringify(expected.assets) ? [`assets ${JSON.stringify(actual.assets)}, declared ${JSON.stringify(expected.assets)}`] : []),
    ...(JSON.stringify(actual.jobs) !== JSON.stringify(expected.jobs) ? [`jobs ${JSON.stringify(actual.jobs)}, declared ${JSON.stringify(expected.jobs)}`] : []),
    ...(JSON.stringify(actual.schedules) !== JSON.stringify(scheduleNames) ? [`schedules ${JSON.stringify(actual.schedules)}, declared ${JSON.stringify(scheduleNames)}`] : []),
    ...(JSON.stringify(actual.sensors) !== JSON.stringify(sensorNames) ? [`sensors ${JSON.stringify(actual.sensors)}, declared ${JSON.stringify(sensorNames)}`] : []),
  ];
  return problems.length ? [{ ...member, stage: 'load', error: `listed other definitions than declared: ${problems.join('; ')}`, detail: problems.join('\n'), pipelineJson: component.files['pipeline.json'] }] : [];
}

/** Block or sensor id → its type, resolved as the compile service resolves a stored (pinned) spec. */
async function typesOf(spec: PipelineSpec) {
  const placed = [...spec.blocks, ...spec.sensors];
  const known = new Map((await source.lookup([...new Set(placed.map((b) => b.type.split('@')[0]!))])).map((type) => [type.ref, type]));
  return new Map(placed.flatMap((item) => (known.has(item.type) ? [[item.id, known.get(item.type)!] as const] : [])));
}

/** Each distinct failure once, with one spec that causes it, its definitions.py, the error in full and a replay. */
function describeFailures(failures: Failure[]): string {
  const byError = new Map<string, Failure[]>();
  for (const f of failures) {
    const key = `${f.stage}: ${kindOf(f)}`;
    byError.set(key, [...(byError.get(key) ?? []), f]);
  }
  const sections = [...byError].map(([key, group]) => {
    const first = group[0]!;
    return [
      `=== ${group.length} × ${key}`,
      `runs: ${group.map((f) => `${f.run} (${f.intent})`).join(', ')}; replay the first: ${replay(first.run)}`,
      `--- spec\n${JSON.stringify(first.spec, null, 1)}`,
      ...(first.pipelineJson ? [`--- pipeline.json\n${first.pipelineJson}`] : []),
      `--- ${first.stage === 'load' ? 'Dagster' : first.stage}\n${first.detail}`,
    ].join('\n');
  });
  const stages = (stage: Failure['stage']) => failures.filter((f) => f.stage === stage).length;
  return `Seed ${SEED}: ${stages('load')} compiled pipeline(s) did not load in a shard as declared, ${stages('compile')} valid spec(s) did not compile, ${stages('validate')} spec(s) meant to be valid were refused:\n${sections.join('\n\n')}`;
}

/** An error's first line without the spec's own ids and quoted values, so one kind of failure reads as one. */
function kindOf({ error, spec }: Failure): string {
  const ids = [...spec.blocks, ...spec.jobs, ...spec.schedules].map((item) => item.id).filter((id) => /^\w{2,}$/.test(id));
  let line = error.split('\n')[0]!;
  for (const id of ids.sort((a, b) => b.length - a.length)) line = line.replace(new RegExp(`\\b${id}\\b`, 'g'), '<id>');
  return line.replace(/'[^']*'|"[^"]*"/g, '…');
}
