import type { Principal } from '../src/auth/principal.ts';
import { applyConfigDefaults } from '../src/catalog/config-validator.ts';
import type { PipelineSpec } from '../src/pipelines/spec-schema.ts';
import type { Services } from '../src/services.ts';
import { qualified, type InspectionCall } from './source-stand-in.ts';

/**
 * Checks on the RESULT of a conversation, never on its transcript: what is stored, compiled and
 * deployed afterwards, and what the user was finally told. A model may take any path; these only
 * ask whether it got there.
 */
export interface GradeContext {
  services: Services;
  principal: Principal;
  /** The pipeline the scenario is about: the one set up beforehand, or the one the model created. */
  pipelineId: string | null;
  /** The text of the last assistant message. */
  answer: string;
  /** What the scenario's setup recorded, for graders that compare before and after. */
  setup: SetupRecord;
  /** The inspect_source calls the scenario's source stand-in answered, in order (none without one). */
  inspections: InspectionCall[];
}

export interface SetupRecord {
  pipelineId?: string;
  /** The pipeline's version after setup. */
  version?: number;
  /** How many deployments the pipeline had after setup. */
  deployments?: number;
}

export interface Check {
  pass: boolean;
  detail: string;
}

export interface Grader {
  name: string;
  grade(ctx: GradeContext): Promise<Check>;
}

const ok = (detail: string): Check => ({ pass: true, detail });
const fail = (detail: string): Check => ({ pass: false, detail });
const NO_PIPELINE = fail('no pipeline was created');

async function currentSpec(ctx: GradeContext): Promise<{ spec: PipelineSpec; version: number } | null> {
  if (!ctx.pipelineId) return null;
  const view = await ctx.services.pipelines.get(ctx.principal, ctx.pipelineId);
  return { spec: view.version.spec, version: view.version.version };
}

// The same schedule, written either way.
const CRON_ALIASES: Record<string, string> = { '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *' };
const normalCron = (cron: string) => CRON_ALIASES[cron.trim()] ?? cron.trim().split(/\s+/).join(' ');

/** The crons a spec schedules: its "schedules" and any cron_schedule trigger blocks. */
function cronsOf(spec: PipelineSpec): string[] {
  const fromBlocks = spec.blocks.filter((b) => b.type.startsWith('cron_schedule@')).map((b) => String(b.config.cron ?? ''));
  return [...spec.schedules.map((s) => s.cron), ...fromBlocks].map(normalCron);
}

/** The stored current version compiles to a Dagster code location. */
export function compiles(): Grader {
  return {
    name: 'compiles',
    async grade(ctx) {
      if (!ctx.pipelineId) return NO_PIPELINE;
      try {
        const compiled = await ctx.services.compiler.compile(ctx.principal, ctx.pipelineId);
        return compiled.files['defs.yaml'] ? ok(`version ${compiled.view.version.version} compiles to component ${compiled.componentName}`) : fail('compiled without a defs.yaml');
      } catch (error) {
        return fail(`does not compile: ${(error as Error).message}`);
      }
    },
  };
}

/** The data blocks (triggers aside) are exactly these block types, in any order. */
export function blocks(...types: string[]): Grader {
  const want = [...types].sort();
  return {
    name: 'blocks',
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const got = current.spec.blocks.filter((b) => !b.type.startsWith('cron_schedule@')).map((b) => b.type).sort();
      return JSON.stringify(got) === JSON.stringify(want) ? ok(got.join(', ')) : fail(`blocks are ${got.join(', ') || 'none'}, want ${want.join(', ')}`);
    },
  };
}

/** A block of this type has the config `check` accepts (e.g. the right table); with several blocks of the type, any one of them. */
export function blockConfig(type: string, what: string, check: (config: Record<string, unknown>) => boolean): Grader {
  return {
    name: `config: ${what}`,
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const configs = current.spec.blocks.filter((b) => b.type === type).map((b) => b.config);
      if (configs.length === 0) return fail(`no ${type} block`);
      const match = configs.find(check);
      return match ? ok(JSON.stringify(match)) : fail(`${type} config is ${configs.map((c) => JSON.stringify(c)).join(' and ')}; want ${what}`);
    },
  };
}

/** The current version runs on exactly this cron (one schedule). */
export function schedule(cron: string): Grader {
  const want = normalCron(cron);
  return {
    name: 'schedule',
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const crons = cronsOf(current.spec);
      return crons.length === 1 && crons[0] === want ? ok(`"${crons[0]}"`) : fail(`schedules are ${JSON.stringify(crons)}, want ["${want}"]`);
    },
  };
}

/** The current version's runs are partitioned by this time unit (e.g. daily), from `startDate` when given. */
export function partitions(type: 'hourly' | 'daily' | 'weekly' | 'monthly', startDate?: string): Grader {
  const want = startDate ? `${type} from ${startDate}` : type;
  return {
    name: `partitions: ${want}`,
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const got = current.spec.partitions;
      if (!got) return fail(`not partitioned; want ${want}`);
      const have = got.type === 'static' ? `static ${JSON.stringify(got.values)}` : `${got.type} from ${got.start_date}`;
      if (got.type !== type || (startDate && got.start_date !== startDate)) return fail(`partitions are ${have}; want ${want}`);
      return ok(have);
    },
  };
}

/** The current version is what the environment has now: its latest deployment is of it, and it succeeded (deployed, or written where there is no Dagster). */
export function deployed(): Grader {
  return {
    name: 'deployed',
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const latest = await ctx.services.deploymentRepo.latest(ctx.principal.orgId, ctx.pipelineId!);
      if (!latest) return fail('never deployed');
      if (!['deployed', 'written'].includes(latest.status)) return fail(`latest deployment (version ${latest.version}) is ${latest.status}${latest.error ? `: ${latest.error}` : ''}`);
      if (latest.version !== current.version) return fail(`latest deployment is of version ${latest.version}, the current version is ${current.version}`);
      return ok(`version ${latest.version} ${latest.status} to ${latest.environment}`);
    },
  };
}

/** A rollback: a new deployment of this earlier version, which succeeded. */
export function rolledBackTo(version: number): Grader {
  return {
    name: `rolled back to v${version}`,
    async grade(ctx) {
      if (!ctx.pipelineId) return NO_PIPELINE;
      const all = await ctx.services.deploymentRepo.list(ctx.principal, ctx.pipelineId);
      if (all.length <= (ctx.setup.deployments ?? 0)) return fail('no new deployment');
      const latest = all[0]!;
      if (latest.version !== version) return fail(`latest deployment is of version ${latest.version}, want ${version}`);
      if (!['deployed', 'written'].includes(latest.status)) return fail(`the deployment of version ${version} is ${latest.status}`);
      return ok(`version ${version} ${latest.status}`);
    },
  };
}

/** No new version was stored (for questions and rollbacks). */
export function noNewVersion(): Grader {
  return {
    name: 'no new version',
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      return current.version === ctx.setup.version ? ok(`still version ${current.version}`) : fail(`version ${ctx.setup.version} became ${current.version}`);
    },
  };
}

/** Nothing was deployed (for questions). */
export function noNewDeployment(): Grader {
  return {
    name: 'no new deployment',
    async grade(ctx) {
      if (!ctx.pipelineId) return NO_PIPELINE;
      const n = (await ctx.services.deploymentRepo.list(ctx.principal, ctx.pipelineId)).length;
      return n === (ctx.setup.deployments ?? 0) ? ok(`${n} deployment(s), as before`) : fail(`${ctx.setup.deployments ?? 0} deployment(s) became ${n}`);
    },
  };
}

/** The final answer says something matching `pattern`. */
export function answerMentions(pattern: RegExp, what = String(pattern)): Grader {
  return {
    name: `answer: ${what}`,
    async grade(ctx) {
      return pattern.test(ctx.answer) ? ok(`"${pattern.exec(ctx.answer)![0]}"`) : fail(`the answer does not mention ${what}: "${ctx.answer.slice(0, 160)}"`);
    },
  };
}

/** The final answer gives the pipeline's actual status (as pipeline_status computes it now). */
export function answerGivesStatus(): Grader {
  return {
    name: 'answer: actual status',
    async grade(ctx) {
      if (!ctx.pipelineId) return NO_PIPELINE;
      const { status } = await ctx.services.domain.status.of(ctx.principal, ctx.pipelineId);
      return new RegExp(`\\b${status}\\b`, 'i').test(ctx.answer) ? ok(`says "${status}"`) : fail(`the status is "${status}"; the answer says "${ctx.answer.slice(0, 160)}"`);
    },
  };
}

/** The stored current version passes validation against the catalog as it is now (no errors). */
export function validates(): Grader {
  return {
    name: 'validates',
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const report = await ctx.services.pipelines.validate(ctx.principal, current.spec);
      if (!report.valid) return fail(`invalid: ${report.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
      return ok(`valid${report.warnings.length ? ` with warnings: ${report.warnings.map((w) => w.path).join(', ')}` : ''}`);
    },
  };
}

/** Each pair [from, to] of block types has an edge from a block of the first to a block of the second. */
export function edges(...pairs: Array<[from: string, to: string]>): Grader {
  return {
    name: 'edges',
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const typeOf = new Map(current.spec.blocks.map((b) => [b.id, b.type]));
      const have = new Set(current.spec.edges.map((e) => `${typeOf.get(e.from.block)} → ${typeOf.get(e.to.block)}`));
      const missing = pairs.map(([from, to]) => `${from} → ${to}`).filter((p) => !have.has(p));
      return missing.length ? fail(`no edge ${missing.join(', ')}; edges are ${[...have].join(', ') || 'none'}`) : ok([...have].join(', '));
    },
  };
}

/**
 * A schedule on `cron` (kind 'schedule') or a sensor of type `trigger` (kind 'sensor') runs a job
 * of the spec whose blocks include blocks of these types (every block when it names no job, unless
 * `namesJob` asks that it target a declared job); with `exactly`, blocks of no other type.
 */
export function triggers(kind: 'schedule' | 'sensor', trigger: string, runs: string[], opts: { namesJob?: boolean; exactly?: boolean } = {}): Grader {
  return {
    name: `${kind} ${trigger} runs ${runs.length} block type(s)`,
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const { spec } = current;
      const found = kind === 'schedule' ? spec.schedules.filter((s) => normalCron(s.cron) === normalCron(trigger)) : spec.sensors.filter((s) => s.type === trigger);
      if (found.length === 0) return fail(`no ${kind} ${trigger}; ${kind}s are ${JSON.stringify(kind === 'schedule' ? cronsOf(spec) : spec.sensors.map((s) => s.type))}`);
      const typeOf = new Map(spec.blocks.map((b) => [b.id, b.type]));
      const verdicts = found.map((t) => {
        if (t.job === undefined && opts.namesJob) return fail(`${t.id} targets no job`);
        const job = t.job === undefined ? null : spec.jobs.find((j) => j.id === t.job);
        if (t.job !== undefined && !job) return fail(`${t.id} targets job "${t.job}", which the spec does not declare`);
        const types = new Set((job?.blocks ?? spec.blocks.map((b) => b.id)).map((id) => typeOf.get(id)));
        const what = job ? `job "${job.id}"` : 'every block';
        const missing = runs.filter((type) => !types.has(type));
        const extra = opts.exactly ? [...types].filter((type) => !runs.includes(type!)) : [];
        if (missing.length) return fail(`${t.id} runs ${what}, without ${missing.join(', ')}`);
        return extra.length ? fail(`${t.id} runs ${what}, which also has ${extra.join(', ')}`) : ok(`${t.id} runs ${what}`);
      });
      return verdicts.find((v) => v.pass) ?? verdicts[0]!;
    },
  };
}

/**
 * The model looked before it proposed: an inspection of `table` with a `blockType` block answered
 * ok (so with the right secret, too) before the pipeline's first version was saved. The one grader
 * that asks about the path, because "seen, not guessed" is about when a column became known.
 */
export function inspectedBeforeProposing(blockType: string, table: string): Grader {
  const slug = blockType.split('@')[0]!;
  return {
    name: `inspected ${table} before proposing`,
    async grade(ctx) {
      if (!ctx.pipelineId) return NO_PIPELINE;
      const { versions } = await ctx.services.pipelines.get(ctx.principal, ctx.pipelineId);
      const proposed = Math.min(...versions.map((v) => new Date(v.created_at).getTime()));
      const of = ctx.inspections.filter((c) => c.request.block_type.split('@')[0] === slug && c.answer.ok && c.answer.table && qualified(c.answer.table) === qualified(table));
      if (of.length === 0) {
        const tried = ctx.inspections.map((c) => `${c.request.block_type} ${JSON.stringify(c.request.config)}: ${c.answer.ok ? `ok, table ${c.answer.table ?? 'none'}` : c.answer.error}`);
        return fail(ctx.inspections.length ? `no inspection of ${table} with ${slug} succeeded; calls: ${tried.join('; ')}` : 'inspect_source was never called');
      }
      const before = of.find((c) => c.at.getTime() <= proposed);
      return before ? ok(`inspected with ${JSON.stringify(before.request.config)} before version 1 was saved`) : fail(`${table} was inspected only after the pipeline was proposed`);
    },
  };
}

/**
 * Every column the current spec names is one an inspection showed (with the same logical type,
 * where a contract gives one): the config fields `fields` lists per block type, defaults filled
 * in (a block reads its default column as surely as a written one, so leaving `updated_at` in
 * place is a guess too), and every block's declared contracts.
 */
export function columnsSeen(fields: Record<string, string[]>): Grader {
  return {
    name: 'columns seen, not guessed',
    async grade(ctx) {
      const current = await currentSpec(ctx);
      if (!current) return NO_PIPELINE;
      const seen = new Map(ctx.inspections.flatMap((c) => (c.answer.ok ? (c.answer.columns ?? []) : [])).map((c) => [c.name, c.type]));
      const named: Array<{ path: string; name: string; type?: string | undefined; defaulted?: boolean }> = [];
      for (const [i, block] of current.spec.blocks.entries()) {
        for (const [port, contract] of Object.entries(block.contracts ?? {})) {
          for (const [k, column] of contract.columns.entries()) named.push({ path: `/blocks/${i}/contracts/${port}/columns/${k}`, name: column.name, type: column.type });
        }
        const listed = fields[block.type];
        if (!listed) continue;
        const config = applyConfigDefaults((await ctx.services.catalog.require(ctx.principal, block.type)).config_schema, block.config);
        for (const field of listed) {
          const value = config[field];
          const defaulted = block.config[field] === undefined;
          if (typeof value === 'string') named.push({ path: `/blocks/${i}/config/${field}`, name: value, defaulted });
          if (Array.isArray(value)) value.forEach((v, k) => named.push({ path: `/blocks/${i}/config/${field}/${k}`, name: String(v), defaulted }));
        }
      }
      const guessed = named.filter((c) => !seen.has(c.name) || (c.type !== undefined && c.type !== seen.get(c.name)));
      const shown = seen.size ? `the inspection showed ${[...seen].map(([name, type]) => `${name} (${type ?? 'no logical type'})`).join(', ')}` : 'no inspection showed any column';
      if (guessed.length) {
        const what = (c: (typeof named)[number]) => `${c.path} "${c.name}"${c.type ? ` as ${c.type}` : ''}${c.defaulted ? ' (the default)' : ''}`;
        return fail(`not seen: ${guessed.map(what).join(', ')}; ${shown}`);
      }
      return named.length ? ok(`${named.length} column name(s), all seen: ${[...new Set(named.map((c) => c.name))].join(', ')}`) : fail('the spec names no column');
    },
  };
}
