import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cronProblem } from '../../src/pipelines/validation/cron.ts';
import { VENV_BIN } from '../support/dagster-server.ts';

// One cron dialect on both sides: each string goes through the validator (src/pipelines/
// validation/cron.ts) and through the pinned Dagster in .venv (ScheduleDefinition, its interval
// warning, and the iterator the daemon finds ticks with), and they must agree.

/** Not on a minute boundary, so "the next tick" means the same thing on both sides. */
const START = 1_700_000_000.5;

const ACCEPTED = [
  '* * * * *', '0 0 * * *', '0 */6 * * *', '30 2 * * 0', '0 9-17 * * 1-5', '5 4 * * sun', '0 22 * * 1-5',
  '23 0-20/2 * * *', '0 0,12 1 */2 *', '0 0 * * 1,3-5', '0 0 1 1 *', '0 0 29 2 *', '0 0 29 2 1', '0 0 31 * *',
  '0 0 * * MON', '0 0 * JAN *', '0 0 * jan *', '0 0 * * mon-fri', '0 0 * JAN-MAR *', '0 0 * * SUN,SAT', '0 0 1 feb *',
  '0 0 * * 7', '0 0 * * 0-7', '0 0 * * 5-7', '0 0 * * */2', '0 0 * * 1-5/2', '0 0 * * 1-7/2', '0 0 * * 0-7/2',
  '0 0 * * */3', '0 0 * * 5-7/2', '0 0 * * */7', '0 0 * * 6-7', '0 0 * * 7,1', '0 0 * * sun-sat', '0 0 * * 0-7/7',
  '5/15 * * * *', '5-10/2 * * * *', '1,2,3 * * * *', '01 * * * *', '00 00 * * *', '0 0 1-31/2 * *', '*/1 * * * *',
  '0-59/15 * * * *', '0 0-23/6 * * *', '0 0 * 2-11/3 *', '0 0 */2 */3 */4', '0 0 * JAN-DEC/2 *', '0 0 * * SUN-SAT/2',
  '0 0 1-5 * 1-5', '*/59 * * * *', '* * * * * ', '  0 0 * * *', '0  0 * * *',
  '@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually',
];

/** Refused by both: what Dagster says about each is in its own words in a failure message. */
const REFUSED = [
  'H 0 * * *', '0 0 * * 5L', '0 0 LW * *', '0 0 15W * *', '0 0 * * 8', '*/0 * * * *', '60 * * * *', '0 24 * * *',
  '0 0 0 * *', '0 0 32 * *', '0 0 * 0 *', '0 0 * 13 *', '0 0 31 2 *', '0 0 30 2 *', '0 0 30,31 2 *', '0 0 31 4 *',
  '@reboot', '@every 5m', '0 0 0 * * *', '0 0 * * * *', '0 0 * * * 2024', '* * * *', '', '   ', '1,,2 * * * *',
  '1-2-3 * * * *', '*/5/2 * * * *', '-1 * * * *', '+1 * * * *', '1.5 * * * *', '0x10 * * * *', '0 0 * * MONDAY',
  '0 0 * JANUARY *', '0 0 * * 1L', '0 0 L-3 * *', '0 0 * * 1#6', '0 0 * * 1#0', '0 0 * * *-1', '0 0 * * L',
  '0 0 1W * *', '0 0 W * *', '0 0 * * #', '0 0 * * 1#', '@daily ', ' @hourly',
  // Dagster loads these only with its warning that they fire more often than they read.
  '*/90 * * * *', '0 */25 * * *', '0 0 */32 * *', '*/60 * * * *', '1-59/60 * * * *', '0 0 * * 6-0',
];

/** Dagster accepts these and the dialect refuses them on purpose, for the reason given (see cron.ts). */
const STRICTER: Record<string, string> = {
  '0 0 L * *': '"L" is an extension',
  '0 0 L 2 *': '"L" is an extension',
  '0 0 1,L * *': '"L" is an extension',
  '0 0 * * 5#3': '"#" is an extension',
  '0 0 ? * *': '"?" is an extension',
  '0 0 * * ?': '"?" is an extension',
  '0 0 ? * MON': '"?" is an extension',
  'R 0 * * *': 'croniter reads "R" as a random minute; cron-parser refuses it',
  '@midnight': 'cron-parser does not know it ("@daily" is the same)',
  '@DAILY': 'cron-parser reads aliases in lower case only',
  '@Daily': 'cron-parser reads aliases in lower case only',
  '10-5 * * * *': 'croniter wraps a descending range; cron-parser refuses it',
  '0 0 * * 5-1': 'croniter wraps a descending range; cron-parser refuses it',
  '0 0 * * FRI-MON': 'croniter wraps a descending range; cron-parser refuses it',
  '0 0 * * 0,7': 'cron-parser refuses Sunday twice',
  '0 0 * * MON-FRI/9': 'a step longer than its range (Dagster warns only when the range is in numbers)',
  '5-5 * * * *': 'croniter reads a range of one value as "*"',
  '0 0 * * 3-3': 'croniter reads a range of one value as "*"',
  '0 0 * * 7-7': 'croniter reads a range of one value as "*"',
  '0 0 * * 7/1': 'croniter reads it as "*"',
  '0 0 * * 1/3': 'croniter counts Sunday as 7 here (1,4,7), cron-parser does not (1,4)',
  '0 0 * * 1/2': 'croniter counts Sunday as 7 here (1,3,5,7), cron-parser does not (1,3,5)',
  '0 0 * * 2/2': 'a day-of-week step needs a range (this one happens to mean the same on both)',
  '0\t0 * * *': 'fields are separated by spaces',
  '0\n0 * * *': 'fields are separated by spaces',
  '0\u00a00 * * *': 'fields are separated by spaces',
};

type Verdict = { ok: boolean; error: string | null; ticks: string[] | null };

/** fast-check strings over cron's alphabet: valid and invalid fields, extensions, aliases. */
function randomCrons(seed: number): string[] {
  const atom = fc.oneof(
    fc.integer({ min: 0, max: 9 }).map(String),
    fc.integer({ min: 0, max: 64 }).map(String),
    fc.constantFrom('jan', 'FEB', 'Dec', 'mon', 'SUN', 'sat', 'L', 'W', '?', 'H', '5L', '1#2', 'R', '15W'),
  );
  const step = fc.integer({ min: 0, max: 70 });
  const item = fc.oneof(
    fc.constant('*'),
    atom,
    fc.tuple(atom, atom).map(([a, b]) => `${a}-${b}`),
    step.map((s) => `*/${s}`),
    fc.tuple(atom, step).map(([a, s]) => `${a}/${s}`),
    fc.tuple(atom, atom, step).map(([a, b, s]) => `${a}-${b}/${s}`),
  );
  const field = fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => items.join(','));
  const expression = fc.oneof(
    { weight: 9, arbitrary: fc.array(field, { minLength: 4, maxLength: 6 }).map((fields) => fields.join(' ')) },
    { weight: 1, arbitrary: fc.constantFrom('@hourly', '@weekly', '@Monthly', '@midnight', '@reboot', '@yearly') },
  );
  return fc.sample(expression, { numRuns: 1500, seed });
}

const accepted = (cron: string) => cronProblem(cron) === null;
const parserTicks = (cron: string) =>
  CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: new Date(START * 1000) }).take(5).map((d) => d.toISOString());
const iso = (ticks: string[] | null) => (ticks ?? []).map((t) => new Date(t).toISOString());

const seed = Date.now() % 2 ** 31;
const random = randomCrons(seed);
let dagster: Record<string, Verdict>;

beforeAll(() => {
  const all = [...new Set([...ACCEPTED, ...REFUSED, ...Object.keys(STRICTER), ...random])];
  const run = spawnSync(join(VENV_BIN, 'python'), [resolve(import.meta.dirname, '../support/dagster_cron.py'), String(START)], {
    input: JSON.stringify(all),
    encoding: 'utf8',
    env: { ...process.env, DAGSTER_DISABLE_TELEMETRY: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(run.status, run.stderr).toBe(0);
  dagster = JSON.parse(run.stdout);
});

describe('the cron dialect, against the pinned Dagster', () => {
  it.each(ACCEPTED)('both accept %j, and find the same next ticks', (cron) => {
    expect(dagster[cron], JSON.stringify(dagster[cron])).toMatchObject({ ok: true });
    expect(cronProblem(cron)).toBeNull();
    expect(parserTicks(cron)).toEqual(iso(dagster[cron]!.ticks));
  });

  it.each(REFUSED)('both refuse %j', (cron) => {
    expect(dagster[cron]!.ok, `Dagster accepts ${JSON.stringify(cron)}`).toBe(false);
    expect(cronProblem(cron)).toEqual(expect.any(String));
  });

  it.each(Object.entries(STRICTER))('refuses %j, which Dagster accepts, on purpose: %s', (cron) => {
    expect(dagster[cron]!.ok, dagster[cron]!.error ?? '').toBe(true);
    expect(cronProblem(cron)).toEqual(expect.any(String));
  });

  it(`accepts nothing Dagster refuses among ${random.length} random strings, and means the same (seed ${seed})`, () => {
    const ours = random.filter(accepted);
    // Enough of them are valid for the comparison to mean something.
    expect(ours.length).toBeGreaterThan(20);
    for (const cron of ours) {
      expect(dagster[cron], `seed ${seed}: ${JSON.stringify(cron)} → ${JSON.stringify(dagster[cron])}`).toMatchObject({ ok: true });
      expect(parserTicks(cron), `seed ${seed}: ${JSON.stringify(cron)}`).toEqual(iso(dagster[cron]!.ticks));
    }
  });

  it('words its refusals so that they name the part to fix', () => {
    expect(cronProblem('H 0 * * *')).toContain('"H" (hashed) in the minute field');
    expect(cronProblem('0 0 * * 5L')).toContain('"L" (last) in the day of week field ("5L")');
    expect(cronProblem('*/0 * * * *')).toContain('step of 0');
    expect(cronProblem('*/90 * * * *')).toContain('step of 90 in the minute field');
    expect(cronProblem('0 0 31 2 *')).toContain('never fires');
    expect(cronProblem('@midnight')).toContain('"@daily"');
    expect(cronProblem('@reboot')).toContain('has no time');
    expect(cronProblem('0 0 * * 5-1')).toContain('going backwards');
    expect(cronProblem('0 0 0 * * *')).toContain('has 6 fields');
  });
});
