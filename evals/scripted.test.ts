import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlm } from '../src/agent/llm.ts';
import { startScriptedLlm } from '../test/support/scripted-llm.ts';
import { flagshipSpec } from '../test/compile/fixtures.ts';
import type { PipelineSpec } from '../src/pipelines/spec-schema.ts';
import {
  answerGivesStatus,
  answerMentions,
  blockConfig,
  blocks,
  columnsSeen,
  compiles,
  deployed,
  edges,
  inspectedBeforeProposing,
  noNewDeployment,
  noNewVersion,
  partitions,
  rolledBackTo,
  schedule,
  triggers,
  validates,
  type GradeContext,
  type Grader,
  type SetupRecord,
} from './graders.ts';
import { createPipeline, deploy, ENVIRONMENT, startHarness, type Harness } from './harness.ts';
import { call, react, resultOf } from './policy.ts';
import { runScenario, scoreTable } from './scenario.ts';
import { buildAndDeploy } from './scenarios/build.ts';
import { FLAGSHIP_PLAN, flagship } from './scenarios/flagship.ts';
import { ACCOUNTS, COLUMN_FIELDS, inspectFirst, inspectThenPropose } from './scenarios/inspect-first.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { LAKE_PLAN, LAKE_SEED, lake } from './scenarios/lake.ts';
import { proposeStack } from './scenarios/stack.ts';
import { sourceStandIn, type InspectionCall } from './source-stand-in.ts';

const EXTRACT = 'postgres_incremental_extract@1';
const CLICKHOUSE = 'clickhouse_replacing_merge_tree_load@1';

/** The flagship policy's steps up to and including propose_pipeline. */
const FLAGSHIP_STEPS_UNTIL_PROPOSE = () => buildAndDeploy(FLAGSHIP_PLAN)().slice(0, 5);

describe('eval scenarios, played by their scripted policies (write-only environment)', () => {
  it('has at least six scenarios, each with graders', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(6);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    for (const s of SCENARIOS) expect(s.graders.length, s.name).toBeGreaterThan(0);
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: every grader passes`, async () => {
      const result = await runScenario(scenario, 'scripted');
      expect(result.error).toBeNull();
      expect(result.checks.filter((c) => !c.pass)).toEqual([]);
      expect(result.passed).toBe(scenario.graders.length);
      // Every tool the policy called ran and answered.
      const parts = result.turns.flatMap((t) => t.message?.parts ?? []).filter((p) => p.type.startsWith('tool-')) as Array<{ type: string; state: string }>;
      expect(parts.length).toBeGreaterThan(0);
      expect(parts.filter((p) => p.state !== 'output-available')).toEqual([]);
    });
  }

  it('scores a model that schedules the wrong cron below full marks, failing only the schedule', async () => {
    const wrong = buildAndDeploy(FLAGSHIP_PLAN, (spec) => ({ ...spec, schedules: [{ id: 'every_12_hours', cron: '0 */12 * * *' }] }))();
    const result = await runScenario(flagship, 'scripted', { policy: wrong });
    expect(result.pass).toBe(false);
    expect(result.checks.filter((c) => !c.pass).map((c) => c.grader)).toEqual(['schedule']);
    expect(scoreTable([result])).toMatch(/\| flagship +\| 6\/7 +\| FAIL +\| \d+ +\| \d+ +\| schedule: schedules are \["0 \*\/12 \* \* \*"\]/);
  });

  it('counts tokens: each scenario\'s columns are the sums of the usage the endpoint reported, and the total row adds them up', async () => {
    const server = await startScriptedLlm({ steps: flagship.policy() });
    try {
      const llm = createLlm({ apiKey: 'scripted', baseURL: server.baseUrl, model: 'scripted', maxRetries: 0 });
      const result = await runScenario(flagship, llm);
      expect(result.pass).toBe(true);
      // One usage per model step (the policy's steps), as the server computed and sent them.
      expect(server.reported).toHaveLength(flagship.policy().length);
      const input = server.reported.reduce((n, u) => n + u.prompt_tokens, 0);
      const output = server.reported.reduce((n, u) => n + u.completion_tokens, 0);
      expect(input).toBeGreaterThan(output);
      expect(result.usage).toEqual({ inputTokens: input, outputTokens: output });
      const other = { ...result, name: 'other', usage: { inputTokens: 7, outputTokens: 3 } };
      const rows = scoreTable([result, other]).split('\n').map((line) => line.split('|').map((cell) => cell.trim()));
      expect(rows[0]!.slice(1, 6)).toEqual(['scenario', 'checks', 'result', 'input tokens', 'output tokens']);
      expect(rows[2]!.slice(1, 6)).toEqual(['flagship', '7/7', 'pass', String(input), String(output)]);
      expect(rows[4]!.slice(1, 6)).toEqual(['total', '14/14', '2/2 scenarios', String(input + 7), String(output + 3)]);
    } finally {
      await server.close();
    }
  });

  it('lake: a model that forgets the raw table\'s partition column, takes 30 days and partitions weekly fails just those graders', async () => {
    const wrong = proposeStack({
      ...LAKE_PLAN,
      blocks: LAKE_PLAN.blocks.map((b) => {
        if (b.id === 'raw_events') return { ...b, config: { ...b.config, partition_column: undefined } };
        if (b.slug === 'feature_engineering') return { ...b, config: { ...b.config, features: (b.config.features as object[]).map((f) => ({ ...f, window: '30d' })) } };
        return b;
      }),
      partitions: { type: 'weekly', start_date: '2024-01-01', timezone: 'UTC' },
    })();
    const result = await runScenario(lake, 'scripted', { policy: wrong });
    expect(result.error).toBeNull();
    const failed = result.checks.filter((c) => !c.pass).map((c) => c.grader);
    expect(failed).toEqual([expect.stringMatching(/^config: raw\.events/), 'config: features per user_id over a 7-day window', 'partitions: daily from 2024-01-01']);
    // Its ports, wired from the catalog by validation's rule (an Iceberg table into dbt's sources), are seed 002's.
    const proposed = result.turns.flatMap((t) => t.message?.parts ?? []).find((p) => p.type === 'tool-propose_pipeline') as { input: { spec: string } } | undefined;
    expect(JSON.parse(proposed!.input.spec).edges).toEqual(LAKE_SEED.edges);
  });

  it('inspect-first: a model that guesses id, created_at and updated_at instead of inspecting fails on what it guessed, though its spec validates', async () => {
    const guess = inspectThenPropose({ guess: { key: 'id', created: 'created_at', version: 'updated_at' } })();
    const result = await runScenario(inspectFirst, 'scripted', { policy: guess });
    expect(result.error).toBeNull();
    const failed = result.checks.filter((c) => !c.pass);
    expect(failed.map((c) => c.grader)).toEqual([
      'inspected public.accounts before proposing',
      'columns seen, not guessed',
      expect.stringMatching(/^config: public\.accounts/),
      expect.stringMatching(/^config: accounts ordered by account_id/),
      'answer: the key account_id',
    ]);
    expect(failed[0]!.detail).toBe('inspect_source was never called');
    expect(failed[1]!.detail).toMatch(/^not seen: \/blocks\/0\/config\/primary_key\/0 "id", .*\/blocks\/1\/config\/version_column "updated_at"; no inspection showed any column$/);
    // Without a contract from an inspection, validation has nothing to hold the guesses against.
    expect(result.checks.find((c) => c.grader === 'validates')!.pass).toBe(true);
  });

  it('fails the deploy grader when the model saves the pipeline but never deploys it', async () => {
    const saveOnly = [
      ...FLAGSHIP_STEPS_UNTIL_PROPOSE(),
      react((req) => ({ text: `Saved "${resultOf(req, 'propose_pipeline').name}".` })),
    ];
    const result = await runScenario(flagship, 'scripted', { policy: saveOnly });
    const failed = result.checks.filter((c) => !c.pass);
    expect(failed.map((c) => c.grader)).toEqual(['deployed', 'answer: the deployment']);
    expect(failed[0]!.detail).toBe('never deployed');
  });
});

describe('graders fail a wrong result', () => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness(null);
  });
  afterAll(async () => {
    await h.close();
  });

  const spec = (edit: (s: PipelineSpec) => void = () => {}): PipelineSpec => {
    const s = flagshipSpec();
    s.name = `pipeline ${++n}`;
    edit(s);
    return s;
  };
  const ctx = (pipelineId: string | null, extra: Partial<GradeContext> = {}): GradeContext => ({ services: h.services, principal: h.principal, pipelineId, answer: '', setup: {}, inspections: [], ...extra });
  const grade = (grader: Grader, c: GradeContext) => grader.grade(c);

  it('compiles: passes a stored pipeline; fails with no pipeline or when compiling throws', async () => {
    const id = await createPipeline(h, spec());
    expect((await grade(compiles(), ctx(id))).pass).toBe(true);
    expect(await grade(compiles(), ctx(null))).toEqual({ pass: false, detail: 'no pipeline was created' });
    const broken = { ...h.services, compiler: { compile: async () => Promise.reject(new Error('unknown block type')) } } as unknown as GradeContext['services'];
    const check = await grade(compiles(), ctx(id, { services: broken }));
    expect(check).toEqual({ pass: false, detail: 'does not compile: unknown block type' });
  });

  it('blocks: fails a pipeline with the wrong sink, or a block too many', async () => {
    const right = await createPipeline(h, spec());
    expect((await grade(blocks(EXTRACT, CLICKHOUSE), ctx(right))).pass).toBe(true);
    const duck = await createPipeline(
      h,
      spec((s) => {
        s.blocks[1] = { id: 'load_customers', type: 'duckdb_load@1', config: { database_path: '/tmp/x.duckdb', table: 'customers' } };
      }),
    );
    const check = await grade(blocks(EXTRACT, CLICKHOUSE), ctx(duck));
    expect(check.pass).toBe(false);
    expect(check.detail).toContain('duckdb_load@1');
    expect((await grade(blocks(EXTRACT), ctx(right))).pass).toBe(false);
  });

  it('blockConfig: fails the wrong table', async () => {
    const id = await createPipeline(h, spec((s) => void (s.blocks[0]!.config.table = 'public.orders')));
    const grader = blockConfig(EXTRACT, 'source table customers', (c) => /^(public\.)?customers$/.test(String(c.table)));
    const check = await grade(grader, ctx(id));
    expect(check.pass).toBe(false);
    expect(check.detail).toContain('public.orders');
  });

  it('blockConfig: with two blocks of the type, passes when either has the config and fails when neither does', async () => {
    const second = { id: 'extract_orders', type: EXTRACT, config: { table: 'public.orders', connection_secret: 'SOURCE_DB_URL' } };
    const id = await createPipeline(h, spec((s) => void s.blocks.push(second)));
    const orders = blockConfig(EXTRACT, 'source table orders', (c) => c.table === 'public.orders');
    expect((await grade(orders, ctx(id))).pass).toBe(true);
    const invoices = await grade(blockConfig(EXTRACT, 'source table invoices', (c) => c.table === 'public.invoices'), ctx(id));
    expect(invoices.pass).toBe(false);
    expect(invoices.detail).toContain('public.customers');
    expect(invoices.detail).toContain('public.orders');
  });

  it('partitions: fails an unpartitioned pipeline, another time unit and another start date', async () => {
    const daily = await createPipeline(h, spec((s) => void (s.partitions = { type: 'daily', start_date: '2024-01-01', timezone: 'UTC' })));
    expect((await grade(partitions('daily', '2024-01-01'), ctx(daily))).pass).toBe(true);
    expect((await grade(partitions('daily'), ctx(daily))).pass).toBe(true);
    expect(await grade(partitions('daily', '2024-02-01'), ctx(daily))).toEqual({ pass: false, detail: 'partitions are daily from 2024-01-01; want daily from 2024-02-01' });
    expect((await grade(partitions('weekly'), ctx(daily))).pass).toBe(false);
    expect(await grade(partitions('daily'), ctx(await createPipeline(h, spec())))).toEqual({ pass: false, detail: 'not partitioned; want daily' });
  });

  it('schedule: fails the wrong cron and a missing schedule; takes @hourly for "0 * * * *"', async () => {
    const wrong = await createPipeline(h, spec((s) => void (s.schedules[0]!.cron = '0 */12 * * *')));
    expect(await grade(schedule('0 */6 * * *'), ctx(wrong))).toEqual({ pass: false, detail: 'schedules are ["0 */12 * * *"], want ["0 */6 * * *"]' });
    const none = await createPipeline(h, spec((s) => void (s.schedules = [])));
    expect((await grade(schedule('0 */6 * * *'), ctx(none))).pass).toBe(false);
    const alias = await createPipeline(h, spec((s) => void (s.schedules[0]!.cron = '@hourly')));
    expect((await grade(schedule('0 * * * *'), ctx(alias))).pass).toBe(true);
  });

  it('deployed: fails when never deployed, and when a newer version was saved but not deployed', async () => {
    const id = await createPipeline(h, spec());
    expect(await grade(deployed(), ctx(id))).toEqual({ pass: false, detail: 'never deployed' });
    await deploy(h, id);
    expect(await grade(deployed(), ctx(id))).toEqual({ pass: true, detail: 'version 1 written to development' });
    await h.services.pipelines.patch(h.principal, id, [{ op: 'replace', path: '/schedules/0/cron', value: '0 * * * *' }]);
    expect(await grade(deployed(), ctx(id))).toEqual({ pass: false, detail: 'latest deployment is of version 1, the current version is 2' });
  });

  it('rolledBackTo: fails when the latest deployment is the newer version, or nothing new was deployed', async () => {
    const id = await createPipeline(h, spec());
    await deploy(h, id);
    await h.services.pipelines.patch(h.principal, id, [{ op: 'replace', path: '/schedules/0/cron', value: '0 * * * *' }]);
    await deploy(h, id);
    const setup: SetupRecord = { pipelineId: id, version: 2, deployments: 2 };
    expect(await grade(rolledBackTo(1), ctx(id, { setup }))).toEqual({ pass: false, detail: 'no new deployment' });
    await deploy(h, id); // redeploys version 2: not a rollback
    expect(await grade(rolledBackTo(1), ctx(id, { setup }))).toEqual({ pass: false, detail: 'latest deployment is of version 2, want 1' });
    await deploy(h, id, 1);
    expect((await grade(rolledBackTo(1), ctx(id, { setup }))).pass).toBe(true);
  });

  it('noNewVersion and noNewDeployment: fail when a question changed something', async () => {
    const id = await createPipeline(h, spec());
    await deploy(h, id);
    const setup: SetupRecord = { pipelineId: id, version: 1, deployments: 1 };
    expect((await grade(noNewVersion(), ctx(id, { setup }))).pass).toBe(true);
    expect((await grade(noNewDeployment(), ctx(id, { setup }))).pass).toBe(true);
    await h.services.pipelines.patch(h.principal, id, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 500 }]);
    await deploy(h, id);
    expect(await grade(noNewVersion(), ctx(id, { setup }))).toEqual({ pass: false, detail: 'version 1 became 2' });
    expect(await grade(noNewDeployment(), ctx(id, { setup }))).toEqual({ pass: false, detail: '1 deployment(s) became 2' });
  });

  it('validates: passes a stored pipeline; fails a spec the catalog no longer accepts, naming the path', async () => {
    const id = await createPipeline(h, spec());
    expect((await grade(validates(), ctx(id))).pass).toBe(true);
    const stale = spec((s) => void (s.blocks[1]!.type = 'clickhouse_replacing_merge_tree_load@9'));
    const services = { ...h.services, pipelines: { get: async () => ({ version: { spec: stale, version: 1 } }), validate: h.services.pipelines.validate.bind(h.services.pipelines) } } as unknown as GradeContext['services'];
    const check = await grade(validates(), ctx(id, { services }));
    expect(check.pass).toBe(false);
    expect(check.detail).toContain('/blocks/1/type');
  });

  it('edges: fails an edge the wrong way round, and names what is missing', async () => {
    const id = await createPipeline(h, spec());
    expect((await grade(edges([EXTRACT, CLICKHOUSE]), ctx(id))).pass).toBe(true);
    expect(await grade(edges([EXTRACT, CLICKHOUSE], [CLICKHOUSE, EXTRACT]), ctx(id))).toEqual({ pass: false, detail: `no edge ${CLICKHOUSE} → ${EXTRACT}; edges are ${EXTRACT} → ${CLICKHOUSE}` });
  });

  it('triggers: fails a sensor whose job leaves out a block, one with no job when a job is asked for, and a missing cron', async () => {
    const RELEASES = 'github_release_sensor@1';
    const withJobs = (job: string | undefined) =>
      spec((s) => {
        s.jobs = [
          { id: 'extract_only', blocks: ['extract_customers'] },
          { id: 'everything', blocks: ['extract_customers', 'load_customers'] },
        ];
        s.schedules[0]!.job = 'everything';
        s.sensors = [{ id: 'on_release', type: RELEASES, config: { repository: 'dlt-hub/dlt' }, ...(job ? { job } : {}) }];
      });
    const partial = await createPipeline(h, withJobs('extract_only'));
    expect(await grade(triggers('sensor', RELEASES, [EXTRACT, CLICKHOUSE]), ctx(partial))).toEqual({ pass: false, detail: `on_release runs job "extract_only", without ${CLICKHOUSE}` });
    expect((await grade(triggers('schedule', '0 */6 * * *', [EXTRACT, CLICKHOUSE], { namesJob: true }), ctx(partial))).pass).toBe(true);
    expect(await grade(triggers('schedule', '0 */6 * * *', [EXTRACT], { exactly: true }), ctx(partial))).toEqual({ pass: false, detail: `every_6_hours runs job "everything", which also has ${CLICKHOUSE}` });
    expect((await grade(triggers('sensor', RELEASES, [EXTRACT], { exactly: true }), ctx(partial))).pass).toBe(true);
    expect((await grade(triggers('schedule', '0 2 * * *', [EXTRACT]), ctx(partial))).pass).toBe(false);
    const full = await createPipeline(h, withJobs('everything'));
    expect((await grade(triggers('sensor', RELEASES, [EXTRACT, CLICKHOUSE], { namesJob: true }), ctx(full))).pass).toBe(true);
    const jobless = await createPipeline(h, withJobs(undefined));
    expect((await grade(triggers('sensor', RELEASES, [EXTRACT, CLICKHOUSE]), ctx(jobless))).pass).toBe(true);
    expect(await grade(triggers('sensor', RELEASES, [EXTRACT], { namesJob: true }), ctx(jobless))).toEqual({ pass: false, detail: 'on_release targets no job' });
  });

  /** The inspect-first scenario's pipeline: the accounts table into ClickHouse, with the columns the inspection shows unless `edit` says otherwise. */
  const accountsSpec = (edit: (s: PipelineSpec) => void = () => {}): PipelineSpec => {
    const s = {
      name: `accounts ${++n}`,
      blocks: [
        {
          id: 'extract_accounts',
          type: EXTRACT,
          config: { table: 'public.accounts', connection_secret: 'SOURCE_DB_URL', primary_key: ['account_id'], created_at_column: 'created_on', updated_at_column: 'modified_on' },
          contracts: { rows: { columns: ACCOUNTS.columns.map((c) => ({ name: c.name, type: c.type! })) } },
        },
        { id: 'load_accounts', type: CLICKHOUSE, config: { table: 'accounts', order_by: ['account_id'], version_column: 'modified_on' } },
      ],
      edges: [{ from: { block: 'extract_accounts', port: 'rows' }, to: { block: 'load_accounts', port: 'rows' } }],
    } as unknown as PipelineSpec;
    edit(s);
    return s;
  };
  const inspect = async (config: Record<string, unknown>, table?: string): Promise<InspectionCall> => {
    const standIn = sourceStandIn(ACCOUNTS);
    await standIn.inspect(h.principal, ENVIRONMENT, { block_type: EXTRACT, config, ...(table ? { table } : {}) });
    return standIn.calls[0]!;
  };
  const RIGHT = { table: 'public.accounts', connection_secret: 'SOURCE_DB_URL' };
  // Versions are stamped in milliseconds: a pause keeps "before" and "after" apart.
  const pause = () => new Promise((r) => setTimeout(r, 10));

  it('inspectedBeforeProposing: fails without an inspection, with a failed one or one of another table, and with one made after the proposal', async () => {
    const grader = inspectedBeforeProposing(EXTRACT, 'public.accounts');
    const before = await inspect({ table: 'accounts', connection_secret: 'SOURCE_DB_URL' });
    const wrongSecret = await inspect({ table: 'public.accounts', connection_secret: 'POSTGRES_URL' });
    const otherTable = await inspect(RIGHT, 'public.users');
    await pause();
    const id = await createPipeline(h, accountsSpec());
    await pause();
    const after = await inspect(RIGHT);
    expect(before.answer).toMatchObject({ ok: true, table: 'accounts', columns: ACCOUNTS.columns });
    expect(await grade(grader, ctx(id, { inspections: [before] }))).toEqual({ pass: true, detail: 'inspected with {"table":"accounts","connection_secret":"SOURCE_DB_URL"} before version 1 was saved' });
    expect(await grade(grader, ctx(id))).toEqual({ pass: false, detail: 'inspect_source was never called' });
    const failed = await grade(grader, ctx(id, { inspections: [wrongSecret, otherTable] }));
    expect(failed.pass).toBe(false);
    expect(failed.detail).toContain('the database in POSTGRES_URL has no table public.accounts');
    expect(failed.detail).toContain('table "public.users" does not exist');
    expect(await grade(grader, ctx(id, { inspections: [after] }))).toEqual({ pass: false, detail: 'public.accounts was inspected only after the pipeline was proposed' });
    expect((await grade(inspectedBeforeProposing('duckdb_table_read@1', 'public.accounts'), ctx(id, { inspections: [before] }))).pass).toBe(false);
  });

  it('columnsSeen: fails a guessed key, a default version column left in place, and a contract column not seen or of another type', async () => {
    const grader = columnsSeen(COLUMN_FIELDS);
    const seen = [await inspect(RIGHT)];
    const right = await createPipeline(h, accountsSpec());
    expect(await grade(grader, ctx(right, { inspections: seen }))).toEqual({ pass: true, detail: '9 column name(s), all seen: account_id, display_name, created_on, modified_on' });
    expect(await grade(grader, ctx(right))).toMatchObject({ pass: false, detail: expect.stringMatching(/^not seen: \/blocks\/0\/contracts\/rows\/columns\/0 "account_id" as integer, .*; no inspection showed any column$/) });
    // Without a contract, validation takes these; the grader does not.
    const guessedKey = await createPipeline(h, accountsSpec((s) => {
      delete s.blocks[0]!.contracts;
      s.blocks[1]!.config.order_by = ['id'];
    }));
    expect(await grade(grader, ctx(guessedKey, { inspections: seen }))).toEqual({
      pass: false,
      detail: 'not seen: /blocks/1/config/order_by/0 "id"; the inspection showed account_id (integer), display_name (string), created_on (timestamp), modified_on (timestamp)',
    });
    const defaulted = await createPipeline(h, accountsSpec((s) => {
      delete s.blocks[0]!.contracts;
      delete s.blocks[0]!.config.created_at_column;
      delete s.blocks[1]!.config.version_column;
    }));
    const check = await grade(grader, ctx(defaulted, { inspections: seen }));
    expect(check.pass).toBe(false);
    expect(check.detail).toMatch(/^not seen: \/blocks\/0\/config\/created_at_column "created_at" \(the default\), \/blocks\/1\/config\/version_column "updated_at" \(the default\);/);
    const badContract = await createPipeline(h, accountsSpec((s) => {
      s.blocks[0]!.contracts!.rows!.columns = [{ name: 'account_id', type: 'string' }, { name: 'modified_on', type: 'timestamp' }, { name: 'updated_at' }];
    }));
    expect((await grade(grader, ctx(badContract, { inspections: seen }))).detail).toMatch(/^not seen: \/blocks\/0\/contracts\/rows\/columns\/0 "account_id" as string, \/blocks\/0\/contracts\/rows\/columns\/2 "updated_at";/);
  });

  it('answerMentions: fails an answer that does not say it', async () => {
    expect((await grade(answerMentions(/hourly/i), ctx(null, { answer: 'It now runs hourly.' }))).pass).toBe(true);
    expect((await grade(answerMentions(/hourly/i), ctx(null, { answer: 'Done.' }))).pass).toBe(false);
  });

  it('answerGivesStatus: fails an answer that states another status than the real one', async () => {
    const id = await createPipeline(h, spec());
    await deploy(h, id); // written: this environment has no Dagster
    expect((await grade(answerGivesStatus(), ctx(id, { answer: 'Its deployment is written to the workspace.' }))).pass).toBe(true);
    const check = await grade(answerGivesStatus(), ctx(id, { answer: 'It is deployed and the last run completed.' }));
    expect(check.pass).toBe(false);
    expect(check.detail).toContain('the status is "written"');
  });
});

describe('policy helpers', () => {
  it('write arguments as strict mode does: every field, null when unused, free-form fields as JSON strings', () => {
    const step = call('propose_pipeline', { spec: { name: 'x' } }) as { toolCalls: Array<{ name: string; arguments: string }> };
    expect(JSON.parse(step.toolCalls[0]!.arguments)).toEqual({ spec: '{"name":"x"}', pipeline_id: null, base_version: null });
    expect(() => call('propose_pipeline', { nope: 1 })).toThrow('propose_pipeline has no argument nope');
  });
});
