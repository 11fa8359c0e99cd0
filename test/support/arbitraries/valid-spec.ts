import fc from 'fast-check';
import type { BlockType } from '../../../src/catalog/block-type.ts';
import { loadManifests } from '../../../src/catalog/load-manifests.ts';
import { applyConfigDefaults } from '../../../src/catalog/config-validator.ts';
import { recipeFor } from '../../../src/compile/block-recipes.ts';
import { producedColumns } from '../../../src/pipelines/contracts.ts';
import type { BlockInstance } from '../../../src/pipelines/spec-schema.ts';
import { BLOCK_CONFIGS, SENSOR_CONFIGS, TABLES_MADE_BY } from './block-configs.ts';
import { hostileText } from './text.ts';

/**
 * Pipeline specs meant to be valid, over every block type the compiler implements, cron
 * schedules, sensors of every implemented sensor type, partitionings, job layouts (some skipping
 * checks) and retry policies, with hostile names and descriptions.
 * Ports and their types come from the catalog's manifests, so a block type joins by adding its
 * config arbitrary (block-configs.ts): wiring follows from its ports.
 */

export type Spec = Record<string, unknown> & {
  blocks: Array<Record<string, unknown> & { id: string; type: string }>;
  edges: Array<{ from: { block: string; port: string }; to: { block: string; port: string } }>;
  jobs: Array<{ id: string; blocks: string[]; description?: string; checks?: boolean }>;
  schedules: Array<Record<string, unknown> & { id: string; cron: string; job?: string }>;
  sensors: Array<Record<string, unknown> & { id: string; type: string; job?: string }>;
};

/** Block types with a recipe in the compiler, as the catalog describes them. */
export const IMPLEMENTED_TYPES: BlockType[] = loadManifests()
  .map((m) => ({ ...m, ref: `${m.slug}@${m.version}`, builtin: true }) as BlockType)
  .filter((type) => recipeFor(type.ref));

const WORDS = ['orders', 'customers', 'events', 'users', 'payments', 'invoices', 'daily', 'hourly', 'raw', 'staged', 'clean', 'extract', 'load', 'copy', 'sync', 'report', 'nightly', 'backfill', 'refresh', 'warehouse', 'ingest', 'export', 'sales', 'ledger', 'metrics'];

// Two words and a suffix, or "x_" and anything: never a keyword, a Dagster-reserved name or a
// name the compiler generates (those belong to the near misses).
const cleanId = fc.oneof(
  fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(...WORDS), fc.option(fc.integer({ min: 2, max: 99 }), { nil: undefined })).map(([a, b, n]) => (n ? `${a}_${b}_${n}` : `${a}_${b}`)),
  fc.stringMatching(/^[a-z0-9_]{1,40}$/).map((s) => `x_${s}`),
);

export const retryPolicy = fc.record(
  {
    max_retries: fc.oneof(fc.constantFrom(0, 100), fc.integer({ min: 0, max: 100 })),
    delay_seconds: fc.oneof(fc.constantFrom(0, 86_400, 0.5), fc.integer({ min: 0, max: 86_400 }), fc.double({ min: 0, max: 86_400, noNaN: true })),
    backoff: fc.constantFrom('linear', 'exponential'),
    jitter: fc.constantFrom('full', 'plus_minus'),
  },
  { requiredKeys: ['max_retries'] },
);

/** Five-field crons from the plain dialect every cron implementation shares, and the aliases. */
const cronField = (min: number, max: number) =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min, max }).map(String),
    fc.integer({ min: 2, max: Math.max(2, Math.floor((max - min) / 2)) }).map((step) => `*/${step}`),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).filter(([a, b]) => a < b).map(([a, b]) => `${a}-${b}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 3 }).map((xs) => xs.sort((a, b) => a - b).join(',')),
  );
export const plainCron = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(cronField(0, 59), cronField(0, 23), cronField(1, 28), cronField(1, 12), cronField(0, 6)).map((f) => f.join(' ')) },
  { weight: 1, arbitrary: fc.constantFrom('@hourly', '@daily', '@weekly', '@monthly', '0 */6 * * *', '0 2 * * *', '*/15 * * * *') },
);

// Whole hours, half and quarter hours, both date-line sides, DST in both hemispheres.
export const COMMON_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Sao_Paulo', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Kiritimati', 'America/St_Johns', 'Etc/GMT+12'];
const zone = fc.constantFrom(...COMMON_ZONES);

const DAY_MS = 86_400_000;
export const isoDate = (from: string, to: string) =>
  fc.integer({ min: Date.parse(from) / DAY_MS, max: Date.parse(to) / DAY_MS }).map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10));

const timePartitions = fc
  .record(
    { type: fc.constantFrom('hourly', 'daily', 'weekly', 'monthly'), start_date: isoDate('2000-01-01', '2035-12-31'), days: fc.integer({ min: 1, max: 4000 }), timezone: zone },
    { requiredKeys: ['type', 'start_date'] },
  )
  .map(({ days, ...p }) => (days === undefined ? p : { ...p, end_date: new Date(Date.parse(p.start_date) + days * DAY_MS).toISOString().slice(0, 10) }));

// Keys Dagster takes: no control characters, no "...", no duplicates.
const partitionKey = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/), fc.constantFrom('2024-01', 'eu west', 'ünïcödé', '东京', '🚀', '"quoted"', "it's", '__import__("os")', '{x}'));
const partitions = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: timePartitions },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('static'), values: fc.uniqueArray(partitionKey, { minLength: 1, maxLength: 8 }) }) },
);

const blockDraft = fc.record(
  {
    pick: fc.nat(),
    configs: fc.record(BLOCK_CONFIGS),
    upstream: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    fanIn: fc.integer({ min: 1, max: 3 }),
    connectOptional: fc.boolean(),
    name: hostileText({ maxLength: 200 }),
    description: hostileText({ maxLength: 4000 }),
    retry_policy: retryPolicy,
  },
  { requiredKeys: ['pick', 'configs', 'upstream', 'fanIn', 'connectOptional'] },
);
type BlockDraft = typeof blockDraft extends fc.Arbitrary<infer T> ? T : never;

const jobLayout = fc.option(
  fc.record({
    count: fc.integer({ min: 1, max: 3 }),
    membership: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
    descriptions: fc.array(fc.option(hostileText({ maxLength: 4000 }), { nil: undefined }), { minLength: 3, maxLength: 3 }),
    checks: fc.array(fc.option(fc.boolean(), { nil: undefined }), { minLength: 3, maxLength: 3 }),
  }),
  // No jobs (the default job runs every block) a third of the time.
  { nil: undefined, freq: 2 },
);
const scheduleDraft = fc.record(
  { cron: plainCron, timezone: zone, job: fc.nat(), description: hostileText({ maxLength: 4000 }) },
  { requiredKeys: ['cron'] },
);

const SENSOR_TYPES = Object.keys(SENSOR_CONFIGS) as Array<keyof typeof SENSOR_CONFIGS>;
const sensorDraft = fc.record(
  { pick: fc.nat(), configs: fc.record(SENSOR_CONFIGS), job: fc.nat(), description: hostileText({ maxLength: 4000 }) },
  { requiredKeys: ['pick', 'configs', 'job'] },
);

const MAX_BLOCKS = 30;
export const validSpec: fc.Arbitrary<Spec> = fc
  .record(
    {
      name: hostileText({ minLength: 1, maxLength: 200 }),
      description: hostileText({ maxLength: 4000 }),
      drafts: fc.oneof({ weight: 9, arbitrary: fc.array(blockDraft, { minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: fc.array(blockDraft, { minLength: 12, maxLength: MAX_BLOCKS }) }),
      ids: fc.uniqueArray(cleanId, { minLength: MAX_BLOCKS + 9, maxLength: MAX_BLOCKS + 9 }),
      jobs: jobLayout,
      schedules: fc.array(scheduleDraft, { maxLength: 3 }),
      sensors: fc.array(sensorDraft, { maxLength: 3 }),
      partitions,
      retry_policy: retryPolicy,
      environment: fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/),
    },
    { requiredKeys: ['name', 'drafts', 'ids', 'jobs', 'schedules', 'sensors', 'partitions'] },
  )
  .map(({ drafts, ids, jobs: layout, schedules: scheduleDrafts, sensors: sensorDrafts, partitions: p, ...rest }) => {
    const { blocks, edges } = wire(drafts, ids);
    const jobIds = ids.slice(MAX_BLOCKS, MAX_BLOCKS + 3);
    const jobs = layout ? jobsFor(blocks.map((b) => b.id), layout, jobIds) : [];
    const schedules = scheduleDrafts.map(({ job, ...s }, i) => ({
      id: ids[MAX_BLOCKS + 3 + i]!,
      ...s,
      ...(jobs.length && job !== undefined && job % 3 !== 0 ? { job: jobs[job % jobs.length]!.id } : {}),
    }));
    const sensors = sensorDrafts.map(({ pick, configs, job, ...sensor }, i) => {
      const type = SENSOR_TYPES[pick % SENSOR_TYPES.length]!;
      return {
        id: ids[MAX_BLOCKS + 6 + i]!,
        type,
        config: configs[type],
        ...sensor,
        ...(jobs.length && job % 3 !== 0 ? { job: jobs[job % jobs.length]!.id } : {}),
      };
    });
    return { ...rest, blocks, edges, jobs, schedules, sensors, ...(p ? { partitions: p } : {}) };
  });

/**
 * Blocks in order, each of a type whose required inputs earlier blocks can feed (by port type and from_blocks),
 * each input wired to one upstream output, or several when the port takes several.
 */
function wire(drafts: BlockDraft[], ids: string[]): Pick<Spec, 'blocks' | 'edges'> {
  const blocks: Spec['blocks'] = [];
  const edges: Spec['edges'] = [];
  const outputs: Array<{ block: string; port: string; type: string; slug: string }> = [];
  drafts.forEach(({ pick, configs, upstream, fanIn, connectOptional, ...text }, k) => {
    const feedable = IMPLEMENTED_TYPES.filter((t) => t.inputs.every((port) => !port.required || outputs.some((o) => feeds(o, port))));
    const type = feedable[pick % feedable.length]!;
    const id = ids[k]!;
    type.inputs.forEach((port, p) => {
      const candidates = outputs.filter((o) => feeds(o, port));
      if (candidates.length === 0 || (!port.required && !connectOptional)) return;
      const count = port.multiple ? Math.min(fanIn, candidates.length) : 1;
      for (let n = 0; n < count; n++) {
        const [from] = candidates.splice((upstream[p % upstream.length]! + n) % candidates.length, 1);
        edges.push({ from: { block: from!.block, port: from!.port }, to: { block: id, port: port.name } });
      }
    });
    const config = configs[type.ref] ?? missingConfig(type.ref);
    const inbound = edges.filter((e) => e.to.block === id);
    blocks.push({ id, type: type.ref, config: namingUpstreamColumns(namingAnUpstreamTable(config, inbound, blocks), type, inbound, blocks), ...text });
    outputs.push(...type.outputs.map((port) => ({ block: id, port: port.name, type: port.type, slug: type.slug })));
  });
  return { blocks, edges };
}

/** A config whose `table` names a table of its (one) upstream block, where that block makes several. */
function namingAnUpstreamTable(config: Record<string, unknown>, inbound: Spec['edges'], blocks: Spec['blocks']): Record<string, unknown> {
  const upstream = blocks.find((b) => b.id === inbound[0]?.from.block);
  const tables = upstream && typeof config.table === 'string' ? TABLES_MADE_BY[upstream.type]?.(upstream.config as Record<string, unknown>) : undefined;
  return tables?.length ? { ...config, table: tables[(config.table as string).length % tables.length] } : config;
}

/**
 * A config whose column fields (a ClickHouse load's order_by and version_column, defaults
 * included) name columns every upstream of that input is known to produce (an extract's column
 * selection), so the edge's contract holds. (No drawn block declares `contracts`, and no built-in
 * input needs columns of its own, so these are the only contracts a drawn spec carries.)
 */
function namingUpstreamColumns(config: Record<string, unknown>, type: BlockType, inbound: Spec['edges'], blocks: Spec['blocks']): Record<string, unknown> {
  const next = { ...config };
  for (const port of type.inputs.filter((p) => p.column_fields)) {
    const known = inbound
      .filter((e) => e.to.port === port.name)
      .map((e) => {
        const index = blocks.findIndex((b) => b.id === e.from.block);
        const upstream = IMPLEMENTED_TYPES.find((t) => t.ref === blocks[index]!.type)!;
        return producedColumns(blocks[index] as unknown as BlockInstance, upstream, index, e.from.port)?.columns.map((c) => c.name);
      })
      .filter((names) => names !== undefined);
    const names = known.length ? known.reduce((all, more) => all.filter((n) => more.includes(n))) : [];
    if (!names.length) continue;
    const pick = (v: string) => (names.includes(v) ? v : names[v.length % names.length]!);
    const withDefaults = applyConfigDefaults(type.config_schema, next);
    for (const field of port.column_fields!) {
      const value = withDefaults[field];
      if (typeof value === 'string') next[field] = pick(value);
      else if (Array.isArray(value)) next[field] = [...new Set(value.map((v) => pick(String(v))))];
    }
  }
  return next;
}

/** Whether an output may feed an input: same type, and from a block type the input names when it names some. */
function feeds(output: { type: string; slug: string }, input: { type: string; from_blocks?: string[] | undefined }): boolean {
  return output.type === input.type && (!input.from_blocks || input.from_blocks.includes(output.slug));
}

function missingConfig(ref: string): never {
  throw new Error(`No config arbitrary for ${ref}: add one to test/support/arbitraries/block-configs.ts`);
}

/** Each block in one to three jobs (a non-empty subset by bitmask), so every block is in some job. */
function jobsFor(blockIds: string[], layout: NonNullable<typeof jobLayout extends fc.Arbitrary<infer T> ? T : never>, jobIds: string[]): Spec['jobs'] {
  const subsets = (1 << layout.count) - 1;
  const jobs = Array.from({ length: layout.count }, (_, j) => ({
    id: jobIds[j]!,
    blocks: blockIds.filter((_, b) => ((layout.membership[b]! % subsets) + 1) & (1 << j)),
    ...(layout.descriptions[j] !== undefined ? { description: layout.descriptions[j] } : {}),
    ...(layout.checks[j] !== undefined ? { checks: layout.checks[j] } : {}),
  }));
  return jobs.filter((job) => job.blocks.length > 0);
}
