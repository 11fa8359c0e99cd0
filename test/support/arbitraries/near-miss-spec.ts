import fc from 'fast-check';
import { recipeFor } from '../../../src/compile/block-recipes.ts';
import { FIXED_NAMES } from '../../../src/compile/naming.ts';
import dagsterRules from '../../../src/pipelines/dagster-names.json' with { type: 'json' };
import { nastyText } from './text.ts';
import { COMMON_ZONES, isoDate, validSpec, type Spec } from './valid-spec.ts';

/**
 * Valid specs with one to three things bent toward what Dagster refuses: names it reserves or
 * that collide with generated ones, cron dialects, time zones, partition keys and dates at the
 * edges, text no spec should carry. Validation decides; whatever it accepts must still load.
 * Each rename is applied everywhere the id is referenced, so only the name itself is at stake.
 */

// Dagster's reserved names, Python builtins and keywords, names generated code defines or
// imports, names Dagster gives its own objects, and lookalikes Python would normalise.
const PROBE_NAMES = [
  'input', 'output', 'str', 'dict', 'int', 'float', 'bool', 'meta', 'conf', 'config', 'context', 'arg_dict', 'input_arg_dict', 'output_arg_dict',
  'type', 'match', 'case', 'async', 'await', 'nonlocal', 'print', 'len', 'list', 'id', 'object', 'open', 'super', 'exec', 'eval', 'globals', 'self', 'cls', 'args', 'kwargs',
  'dg', 'defs', 'pipeline', 'path', 'postgres', 'clickhouse', 'duckdb', 'constellation_blocks', 'dagster', 'sys', 'os', 'json',
  'all_blocks', 'all_blocks_2', 'asset', 'job', 'schedule', 'resources', 'assets', 'jobs', 'schedules', 'sensors',
  '__repository__', '__ASSET_JOB', '__init__', '_', '__', 'Output', 'ｉnput', 'ſtr', 'ınput', 'input ', 'a'.repeat(63), 'a'.repeat(64),
  // and whatever the pinned Dagster and the compiler reserve today, so an upgrade is probed too
  ...dagsterRules.disallowed_names, ...FIXED_NAMES,
];
const hostileId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROBE_NAMES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,70}$/) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'aAzZ09_-. é$"\'\n'), minLength: 1, maxLength: 12 }) },
);

const CRONS = [
  'H 0 * * *', 'H/15 * * * *', '0 0 * * 5L', '0 0 L * *', '0 0 LW * *', '0 0 15W * *', '0 0 * * 1#2', '0 0 ? * *', '0 0 * * ?',
  '0 0 30 2 *', '0 0 31 2 *', '0 0 29 2 *', '0 0 31 4 *', ' 0 0 * * *', '0 0 * * * ', '0\t0 * * *', '0  0 * * *', '0 0 * * MON-FRI', '0 0 * JAN,JUL *',
  '0 0 * * 7', '0 0 * * 0-7', '*/0 * * * *', '0 24 * * *', '60 * * * *', '0 0 0 * *', '5-1 * * * *', '0 0 * * sun', '0 0 1-31/2 * *',
  '@every 5m', '@reboot', '@yearly', '@annually', '@midnight', '@Daily', '@daily ', '0 0 * * * *', '* * * * * *', '0 0 1 1 * 2030', '* * * *',
];
const cronAtom = fc.constantFrom('*', '?', 'L', 'W', 'H', '0', '59', '60', '24', '7', '1-5', '5-1', '*/0', '*/61', 'MON', 'JAN', '1#2', '5L', '15W', 'LW', '0,30', '-1', '/5', 'H/5', '1-7/2');
const hostileCron = fc.oneof(
  fc.constantFrom(...CRONS),
  fc.tuple(fc.array(cronAtom, { minLength: 5, maxLength: 6 }), fc.constantFrom(' ', '  ', '\t')).map(([atoms, gap]) => atoms.join(gap)),
);

// Zones one side knows and the other may not (ICU keeps names the tz database dropped), case and
// offset spellings, and every zone Intl knows.
const hostileZone = fc.oneof(
  fc.constantFrom('US/Pacific-New', 'SystemV/AST4', 'SystemV/EST5EDT', 'Canada/East-Saskatchewan', 'Factory', 'localtime', 'posixrules', 'right/UTC', 'EST', 'GMT0', 'Etc/GMT-14', 'UCT', 'Zulu', 'utc', 'europe/berlin', 'Europe/Kiev', 'Asia/Calcutta', '+01:00', 'UTC+1', 'GMT+1', '', ' UTC', 'Etc/Unknown', 'America/Argentina/ComodRivadavia', 'Asia/Riyadh87'),
  fc.constantFrom(...Intl.supportedValuesOf('timeZone'), ...COMMON_ZONES),
);

const hostileKey = fc.oneof(
  fc.constantFrom(...dagsterRules.invalid_partition_substrings.map((bad) => `a${bad}b`)),
  fc.constantFrom('a\nb', '...', 'a...b', '..', '\t', 'x\r', '\u0000', '\u0007', '\b', '\f', '\v', '', ' ', 'a|b', 'a,b', '[x]', '\\', '\ud800', 'x'.repeat(1000), 'ok'),
  nastyText({ maxLength: 20 }),
);
const EDGE_DATES = ['0000-01-01', '0001-01-01', '0001-01-02', '1000-01-01', '1582-10-10', '1900-01-01', '1969-12-31', '1970-01-01', '2038-01-19', '2999-12-31', '9999-12-30', '9999-12-31', '2024-02-29', '2023-02-29', '2024-13-01', '9999-11-30', '9999-12-02'];
const edgeDate = fc.oneof(fc.constantFrom(...EDGE_DATES), isoDate('0001-01-01', '9999-12-31'));

type Mutation = (spec: Spec) => void;
const at = <T>(items: T[], n: number): T | undefined => (items.length ? items[n % items.length] : undefined);

/** Renames an item and every reference to it. */
function rename(spec: Spec, from: string, to: string): void {
  for (const item of [...spec.blocks, ...spec.jobs, ...spec.schedules]) if (item.id === from) item.id = to;
  for (const edge of spec.edges) for (const end of [edge.from, edge.to]) if (end.block === from) end.block = to;
  for (const job of spec.jobs) job.blocks = job.blocks.map((b) => (b === from ? to : b));
  for (const schedule of spec.schedules) if (schedule.job === from) schedule.job = to;
}

const itemsOf = (spec: Spec, kind: 'blocks' | 'jobs' | 'schedules') => spec[kind] as Array<{ id: string }>;
const kind = fc.constantFrom('blocks', 'jobs', 'schedules', 'blocks');

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind, n: fc.nat(), id: hostileId }).map(({ kind, n, id }): Mutation => (spec) => {
    const item = at(itemsOf(spec, kind), n);
    if (item) rename(spec, item.id, id);
  }),
  // A name the compiler derives from another block's id: its resource key or the default job.
  fc.record({ kind, n: fc.nat(), m: fc.nat(), suffix: fc.constantFrom('_clickhouse', '_postgres', '_duckdb', '_2') }).map(({ kind, n, m, suffix }): Mutation => (spec) => {
    const base = at(spec.blocks, m);
    const item = at(itemsOf(spec, kind), n);
    if (base && item && item !== base) rename(spec, item.id, suffix === '_2' ? 'all_blocks' : base.id + suffix);
  }),
  // The same, aimed: an upstream block named after its downstream block's resource parameter.
  fc.nat().map((n): Mutation => (spec) => {
    const clashing = spec.edges.flatMap((edge) => {
      const resource = recipeFor(spec.blocks.find((b) => b.id === edge.to.block)?.type ?? '')?.resource;
      return resource ? [{ upstream: edge.from.block, name: `${edge.to.block}_${resource.keySuffix}` }] : [];
    });
    const pick = at(clashing, n);
    if (pick) rename(spec, pick.upstream, pick.name);
  }),
  fc.record({ n: fc.nat(), cron: hostileCron }).map(({ n, cron }): Mutation => (spec) => {
    const schedule = at(spec.schedules, n);
    if (schedule) schedule.cron = cron;
    else spec.schedules.push({ id: 'probe_schedule', cron });
  }),
  fc.record({ n: fc.nat(), zone: hostileZone, onPartitions: fc.boolean() }).map(({ n, zone, onPartitions }): Mutation => (spec) => {
    const partitions = spec.partitions as Record<string, unknown> | undefined;
    if (onPartitions && partitions && partitions.type !== 'static') partitions.timezone = zone;
    else if (at(spec.schedules, n)) at(spec.schedules, n)!.timezone = zone;
    else spec.schedules.push({ id: 'probe_schedule', cron: '0 0 * * *', timezone: zone });
  }),
  fc.record({ keys: fc.array(hostileKey, { minLength: 1, maxLength: 5 }), duplicate: fc.boolean() }).map(({ keys, duplicate }): Mutation => (spec) => {
    spec.partitions = { type: 'static', values: duplicate ? [...keys, keys[0]!] : keys };
  }),
  fc.record({ type: fc.constantFrom('hourly', 'daily', 'weekly', 'monthly'), start_date: edgeDate, end_date: edgeDate, timezone: hostileZone }, { requiredKeys: ['type', 'start_date'] }).map((p): Mutation => (spec) => {
    spec.partitions = p;
  }),
  fc.record({ n: fc.nat(), field: fc.constantFrom('name', 'description'), where: fc.constantFrom('pipeline', 'block', 'job', 'schedule'), text: nastyText({ maxLength: 4000 }) }).map(({ n, field, where, text }): Mutation => (spec) => {
    const target = where === 'pipeline' ? spec : at<object>(where === 'block' ? spec.blocks : where === 'job' ? spec.jobs : spec.schedules, n);
    // Jobs and schedules have a description and no name.
    if (target) (target as Record<string, unknown>)[where === 'job' || where === 'schedule' ? 'description' : field] = text;
  }),
  fc.record({ n: fc.nat(), text: nastyText({ maxLength: 60 }) }).map(({ n, text }): Mutation => (spec) => {
    const block = at(spec.blocks.filter((b) => b.type === 'duckdb_load@1'), n);
    if (block) (block.config as Record<string, unknown>).database_path = `${text}.duckdb`;
  }),
  fc.nat().map((n): Mutation => (spec) => {
    const job = at(spec.jobs, n);
    if (job) job.blocks.push(job.blocks[0]!);
  }),
  fc.nat().map((n): Mutation => (spec) => {
    const block = at(spec.blocks, n);
    if (block) block.type = block.type.split('@')[0]!;
  }),
  fc.record({ n: fc.nat(), count: fc.integer({ min: 5, max: 40 }) }).map(({ n, count }): Mutation => (spec) => {
    const job = at(spec.jobs, n)?.id;
    for (let i = 0; i < count; i++) spec.schedules.push({ id: `probe_schedule_${i}`, cron: '0 0 * * *', ...(job ? { job } : {}) });
  }),
);

export const nearMissSpec: fc.Arbitrary<Spec> = fc
  .tuple(validSpec, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([spec, mutations]) => {
    const bent = structuredClone(spec);
    for (const mutate of mutations) mutate(bent);
    return bent;
  });
