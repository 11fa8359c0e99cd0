import { CronExpressionParser } from 'cron-parser';

/**
 * The one cron dialect a schedule may use: what both Dagster 1.13 (its vendored croniter, through
 * ScheduleDefinition) and cron-parser accept, with the same meaning — five fields of numbers,
 * JAN–DEC / SUN–SAT names, `*`, lists, ascending ranges and steps, or one of six lower-case
 * aliases. test/pipelines/cron-dialect.test.ts runs a corpus through this and through Dagster
 * and checks they agree. Where they differ this takes the intersection, and refuses on purpose:
 * - `L`, `W`, `#`, `?`, `H`, `R`: extensions whose support and meaning differ between the two
 *   (Dagster refuses `H` and `5L`; croniter reads `R` as a random minute, cron-parser refuses it).
 * - `@midnight`, `@reboot`, upper-case aliases (cron-parser knows none; `@reboot` has no time).
 * - Descending ranges (`5-1`) and a value listed twice (`0,7`): croniter wraps or repeats them,
 *   cron-parser refuses them.
 * - A day that no month named has (`30,31 2`, `31 4`): croniter accepts it at load, then fails
 *   to find a tick; cron-parser refuses it.
 * - A step longer than its range (`*\/90`): Dagster warns it fires more often than it reads
 *   (every hour at :00); this refuses it. Fields are separated by spaces only (not tabs).
 * - Where the two read one string differently: a one-value range (`3-3`, which croniter reads as
 *   `*`) and a day-of-week step without a range (`1/2`: croniter counts Sunday as 7 there).
 */
interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  // 0 and 7 are both Sunday.
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

export const CRON_ALIASES = ['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually'] as const;

const EXTENSIONS: Array<[RegExp, string]> = [
  [/L/i, '"L" (last)'],
  [/W/i, '"W" (nearest weekday)'],
  [/#/, '"#" (nth weekday)'],
  [/\?/, '"?"'],
  [/^H/i, '"H" (hashed)'],
  [/^R$/i, '"R" (random)'],
];

/** Why a cron expression is unusable for a Dagster schedule, or null when it is fine. */
export function cronProblem(expression: string): string | null {
  const trimmed = expression.replace(/^ +| +$/g, '');
  if (trimmed.startsWith('@')) {
    // Dagster trims the spaces around five fields but matches an alias exactly ("@daily " fails).
    if (trimmed !== expression) return `has spaces around the alias; write "${trimmed}"`;
    return aliasProblem(trimmed);
  }
  if (/[^\x21-\x7e ]/.test(trimmed)) return 'contains a tab, line break or other non-printing character; separate the five fields with spaces';
  const fields = trimmed === '' ? [] : trimmed.split(/ +/);
  if (fields.length !== 5) {
    const extra = fields.length > 5 ? ' (no seconds or year field)' : '';
    return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; a Dagster cron has five${extra}: minute hour day-of-month month day-of-week`;
  }
  for (const [i, text] of fields.entries()) {
    const problem = fieldProblem(text, FIELDS[i]!);
    if (problem) return problem;
  }
  try {
    CronExpressionParser.parse(trimmed, { tz: 'UTC' });
  } catch (error) {
    const message = (error as Error).message;
    if (/day of month/i.test(message)) return 'never fires: no month it names has that day (e.g. February 30)';
    if (/duplicate values/i.test(message)) return `lists a value twice (${message.replace(/^.*: /, '')}; 0 and 7 are both Sunday)`;
    return `cannot be read: ${message}`;
  }
  return null;
}

function aliasProblem(alias: string): string | null {
  if ((CRON_ALIASES as readonly string[]).includes(alias)) return null;
  if (alias === '@midnight') return 'is not accepted here; "@daily" means the same (every day at 00:00)';
  if ((CRON_ALIASES as readonly string[]).includes(alias.toLowerCase())) return `must be written in lower case: "${alias.toLowerCase()}"`;
  if (alias === '@reboot') return 'has no time: Dagster schedules run at times, not at start-up (use a sensor, or a cron such as "0 * * * *")';
  return `is not an alias Dagster and this service both know; use one of ${CRON_ALIASES.join(', ')} or five fields`;
}

function fieldProblem(text: string, field: Field): string | null {
  for (const item of text.split(',')) {
    if (item === '') return `has an empty list entry in the ${field.name} field ("${text}")`;
    const problem = itemProblem(item, field);
    if (!problem) continue;
    // An extension is named as such, rather than as a bad value, so the hint says what to use.
    const extension = EXTENSIONS.find(([pattern]) => pattern.test(item));
    return extension
      ? `uses ${extension[1]} in the ${field.name} field ("${item}"), a cron extension Dagster and this service do not both accept; use numbers, names, ranges, lists and steps`
      : problem;
  }
  return null;
}

function itemProblem(item: string, field: Field): string | null {
  const match = /^(\*|[^/-]+)(?:-([^/-]+))?(?:\/(\d+))?$/.exec(item);
  if (!match) return `has "${item}" in the ${field.name} field, which is not a value, a range a-b, a list a,b or a step */n`;
  const [, first, last, step] = match;
  if (first === '*' && last !== undefined) return `has "${item}" in the ${field.name} field: "*" cannot start a range`;
  const low = first === '*' ? field.min : valueOf(first!, field);
  if (typeof low === 'string') return low;
  const high = last !== undefined ? valueOf(last, field) : first === '*' || step !== undefined ? field.max : low;
  if (typeof high === 'string') return high;
  for (const value of [low, high]) {
    if (value < field.min || value > field.max) return `has ${value} in the ${field.name} field, outside ${field.min}-${field.max}`;
  }
  if (low > high) return `has the range ${item} in the ${field.name} field going backwards; write it from low to high, or as a list`;
  // croniter (Dagster) reads a range of one value ("3-3") as "*": every value.
  if (last !== undefined && low === high) return `has the range ${item} in the ${field.name} field with one value in it; write just ${first}`;
  if (step === undefined) return null;
  // "1/2" runs to the field's end, which croniter takes as 7 (Sunday again) and cron-parser as 6.
  if (field.max === 7 && first !== '*' && last === undefined) return `has "${item}" in the day of week field; give the step a range, e.g. "${first}-6/${step}", or use "*/${step}"`;
  const n = Number(step);
  if (n === 0) return `has a step of 0 in the ${field.name} field ("${item}"); a step must be at least 1`;
  // Dagster warns about these: "*/90" in minutes fires every hour at :00, not every 90 minutes.
  if (n > high) return `has a step of ${n} in the ${field.name} field ("${item}"), longer than its range (up to ${high}): it would fire less often than it reads`;
  return null;
}

/** A field value as a number, or why it is not one. */
function valueOf(raw: string, field: Field): number | string {
  if (/^\d+$/.test(raw)) return Number(raw);
  const named = field.names?.indexOf(raw.toLowerCase()) ?? -1;
  if (named >= 0) return named + (field.name === 'month' ? 1 : 0);
  return field.names
    ? `has "${raw}" in the ${field.name} field; use a number or one of ${field.names.map((n) => n.toUpperCase()).join(', ')}`
    : `has "${raw}" in the ${field.name} field, which is not a number`;
}

