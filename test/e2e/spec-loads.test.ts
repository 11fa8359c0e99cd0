import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { recipeFor } from '../../src/compile/block-recipes.ts';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import type { PipelineSpec } from '../../src/pipelines/spec-schema.ts';
import { validateSpec, type BlockTypeSource } from '../../src/pipelines/validation/validate-spec.ts';
import { BLOCK_CONFIGS } from '../support/arbitraries/block-configs.ts';
import { nearMissSpec } from '../support/arbitraries/near-miss-spec.ts';
import { validSpec, type Spec } from '../support/arbitraries/valid-spec.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { validateLocations, type Verdict } from '../support/validate-locations.ts';

// The invariant of issue 11: a spec that validates compiles, and what compiles loads in Dagster.
// Each run draws a spec meant to be valid and a near miss (a valid spec bent toward what Dagster
// refuses). Both go through the real validation with the real catalog; every one that validates
// is compiled (a failure fails the run, shrunk by fast-check), and all compiled locations are
// then loaded by the pinned Dagster in one batched process, as `dagster definitions validate`
// loads them. Replay: PROPERTY_SEED=<seed> [PROPERTY_PATH=<run>] [PROPERTY_RUNS=<n>].
const SEED = process.env.PROPERTY_SEED ? Number(process.env.PROPERTY_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = Number(process.env.PROPERTY_RUNS ?? (process.env.PROPERTY_PATH ? 1 : 300));
const PATH = process.env.PROPERTY_PATH;
const replay = (run: number) => `PROPERTY_SEED=${SEED} PROPERTY_PATH=${run} npx vitest run --project e2e test/e2e/spec-loads.test.ts`;

type Intent = 'valid' | 'near-miss';
interface Compiled {
  location: string;
  run: number;
  intent: Intent;
  spec: Spec;
  definitionsPy: string;
}

let t: TestApp;
let source: BlockTypeSource;
let workDir: string;
beforeAll(async () => {
  t = await createTestApp('pglite');
  source = t.services.catalog.sourceFor(LOCAL_PRINCIPAL);
  workDir = mkdtempSync(join(tmpdir(), 'constellation-spec-loads-'));
});
afterAll(async () => {
  await t?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('a spec that validates compiles, and what compiles loads in Dagster', () => {
  it('has a config arbitrary for exactly the block types the compiler implements', () => {
    const implemented = loadManifests().map((m) => `${m.slug}@${m.version}`).filter((ref) => recipeFor(ref));
    expect(Object.keys(BLOCK_CONFIGS).sort()).toEqual(implemented.sort());
  });

  it(`loads every generated spec that validates (seed ${SEED}, ${RUNS} runs${PATH ? `, from run ${PATH}` : ''})`, async ({ annotate }) => {
    await annotate(`fast-check seed ${SEED}, ${RUNS} runs; replay: ${replay(0).replace(/ PROPERTY_PATH=0/, '')}`);
    const compiled: Compiled[] = [];
    const refused = new Map<string, number>();
    let run = PATH ? Number(PATH.split(':')[0]) : 0;

    const admit = async (spec: Spec, intent: Intent, at: number) => {
      const report = await validateSpec(structuredClone(spec), source);
      if (!report.valid || !report.spec) {
        if (intent === 'valid') {
          throw new Error(
            `The generator meant this spec to be valid, but validation refused it: ${JSON.stringify(report.errors, null, 1)}\n` +
              `If the rule is right, teach test/support/arbitraries/valid-spec.ts; spec:\n${JSON.stringify(spec, null, 1)}`,
          );
        }
        for (const { code = 'unknown' } of report.errors) refused.set(code, (refused.get(code) ?? 0) + 1);
        return;
      }
      const pinned = await t.services.catalog.pinTypes(LOCAL_PRINCIPAL, report.spec);
      const location = `r${String(at).padStart(4, '0')}_${intent}`;
      const pipelineId = `00000000-0000-4000-8000-${at.toString(16).padStart(11, '0')}${intent === 'valid' ? 'a' : 'b'}`;
      let files: Record<string, string>;
      try {
        files = compilePipeline({ id: pipelineId, name: pinned.name, description: pinned.description ?? null, version: 1 }, pinned, await typesOf(pinned)).files;
      } catch (error) {
        throw new Error(`A spec that validates did not compile (${(error as Error).message}; ${JSON.stringify((error as { issues?: unknown }).issues ?? null)}). Spec:\n${JSON.stringify(spec, null, 1)}`);
      }
      mkdirSync(join(workDir, location), { recursive: true });
      for (const [name, content] of Object.entries(files)) writeFileSync(join(workDir, location, name), content);
      compiled.push({ location, run: at, intent, spec, definitionsPy: files['definitions.py']! });
    };

    await fc.assert(
      fc.asyncProperty(validSpec, nearMissSpec, async (valid, nearMiss) => {
        const at = run++;
        await admit(valid, 'valid', at);
        await admit(nearMiss, 'near-miss', at);
      }),
      { seed: SEED, numRuns: RUNS, ...(PATH ? { path: PATH } : {}), endOnFailure: true },
    );

    const nearMisses = compiled.filter((c) => c.intent === 'near-miss').length;
    await annotate(`${compiled.length} locations loaded (${nearMisses} near misses); near misses refused by validation, by code: ${JSON.stringify(Object.fromEntries(refused))}`);
    const verdicts = new Map((await validateLocations(workDir)).map((v) => [v.location, v]));
    expect([...verdicts.keys()].sort()).toEqual(compiled.map((c) => c.location).sort());
    const failures = compiled.flatMap((c) => (verdicts.get(c.location)!.ok ? [] : [{ ...c, verdict: verdicts.get(c.location)! }]));
    if (process.env.PROPERTY_FAILURES_OUT) writeFileSync(process.env.PROPERTY_FAILURES_OUT, JSON.stringify({ seed: SEED, failures }, null, 1));
    expect(failures.length, describeFailures(failures)).toBe(0);
    expect(compiled.filter((c) => c.intent === 'valid').length).toBeGreaterThanOrEqual(Math.min(RUNS, 300));
  });
});

/** Block id → block type, resolved as the compile service resolves a stored (pinned) spec. */
async function typesOf(spec: PipelineSpec) {
  const known = new Map((await source.lookup([...new Set(spec.blocks.map((b) => b.type.split('@')[0]!))])).map((type) => [type.ref, type]));
  return new Map(spec.blocks.flatMap((block) => (known.has(block.type) ? [[block.id, known.get(block.type)!] as const] : [])));
}

/** Each distinct Dagster error once, with one spec that causes it, its definitions.py and a replay. */
function describeFailures(failures: Array<Compiled & { verdict: Verdict }>): string {
  const byError = new Map<string, Array<Compiled & { verdict: Verdict }>>();
  for (const f of failures) {
    const key = f.verdict.error!.split('\n')[0]!;
    byError.set(key, [...(byError.get(key) ?? []), f]);
  }
  const sections = [...byError.values()].map((group) => {
    const [first] = group;
    return [
      `=== ${group.length} location(s): ${first!.verdict.error}`,
      `runs: ${group.map((f) => `${f.run} (${f.intent})`).join(', ')}; replay the first: ${replay(first!.run)}`,
      `--- spec\n${JSON.stringify(first!.spec, null, 1)}`,
      `--- definitions.py\n${first!.definitionsPy}`,
      `--- Dagster\n${first!.verdict.trace}`,
    ].join('\n');
  });
  return `${failures.length} compiled location(s) did not load in Dagster (seed ${SEED}):\n${sections.join('\n\n')}`;
}
