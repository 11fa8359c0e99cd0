import { cleanPartitionKey, isTimeZone, partitionKeyProblems } from '../dagster-rules.ts';
import type { CheckInput, Findings } from './report.ts';
import { cronProblem } from './cron.ts';

/** Jobs name real blocks; schedules and sensors name real jobs; crons, zones and dates parse. */
export function checkTriggers({ spec, indexOf }: CheckInput, findings: Findings): void {
  const blockIds = [...indexOf.keys()];
  spec.jobs.forEach((job, j) => {
    job.blocks.forEach((blockId, b) => {
      if (!indexOf.has(blockId)) {
        findings.errors.push({
          code: 'unknown_block',
          path: `/jobs/${j}/blocks/${b}`,
          message: `job "${job.id}" names block "${blockId}", which does not exist`,
          hint: `Block ids: ${blockIds.join(', ')}.`,
        });
      }
    });
  });

  const jobIds = new Set(spec.jobs.map((job) => job.id));
  const checkJobRef = (job: string | undefined, path: string) => {
    if (job === undefined || jobIds.has(job)) return;
    findings.errors.push({
      code: 'unknown_job',
      path,
      message: `there is no job "${job}"`,
      hint: jobIds.size ? `Jobs: ${[...jobIds].join(', ')}; or omit "job" to run every block.` : 'Omit "job" to run every block, or declare the job in "jobs".',
    });
  };

  spec.schedules.forEach((schedule, i) => {
    checkJobRef(schedule.job, `/schedules/${i}/job`);
    const problem = cronProblem(schedule.cron);
    if (problem) {
      findings.errors.push({
        code: 'invalid_cron',
        path: `/schedules/${i}/cron`,
        message: `cron "${schedule.cron}" ${problem}`,
        hint: 'Use five fields, e.g. "0 */6 * * *" (every 6 hours) or "0 2 * * *" (daily at 02:00), or @daily.',
      });
    }
    if (!isTimeZone(schedule.timezone)) {
      findings.errors.push({ code: 'invalid_timezone', path: `/schedules/${i}/timezone`, message: `"${schedule.timezone}" is not a time zone Dagster can load`, hint: 'Use a current IANA name, spelled exactly, such as "UTC" or "America/New_York".' });
    }
  });

  spec.sensors.forEach((sensor, i) => checkJobRef(sensor.job, `/sensors/${i}/job`));

  const partitions = spec.partitions;
  if (partitions?.type === 'static') checkStaticPartitions(partitions.values, findings);
  if (partitions && partitions.type !== 'static') {
    for (const field of ['start_date', 'end_date'] as const) {
      const value = partitions[field];
      if (value && !isCalendarDate(value)) {
        findings.errors.push({ code: 'invalid_partitions', path: `/partitions/${field}`, message: `"${value}" is not a calendar date`, hint: 'Use YYYY-MM-DD, e.g. "2024-01-31".' });
      } else if (value && (value < FIRST_PARTITION_DATE || value > LAST_PARTITION_DATE)) {
        findings.errors.push({
          code: 'invalid_partitions',
          path: `/partitions/${field}`,
          message: `"${value}" is outside the dates partitions can use (${FIRST_PARTITION_DATE} to ${LAST_PARTITION_DATE})`,
          hint: 'Start partitions at the first day your data has, e.g. "2024-01-01".',
        });
      }
    }
    if (partitions.end_date && partitions.end_date <= partitions.start_date) {
      findings.errors.push({ code: 'invalid_partitions', path: '/partitions/end_date', message: 'end_date must come after start_date', hint: 'Move end_date later, or drop it for open-ended partitions.' });
    }
    if (!isTimeZone(partitions.timezone)) {
      findings.errors.push({ code: 'invalid_timezone', path: '/partitions/timezone', message: `"${partitions.timezone}" is not a time zone Dagster can load`, hint: 'Use a current IANA name, spelled exactly, such as "UTC".' });
    }
  }
}

/** Partition keys as Dagster's StaticPartitionsDefinition takes them: unique, none of its refused substrings. */
function checkStaticPartitions(values: string[], findings: Findings): void {
  const firstAt = new Map<string, number>();
  values.forEach((value, i) => {
    const path = `/partitions/values/${i}`;
    const refused = partitionKeyProblems(value);
    if (refused.length) {
      const clean = cleanPartitionKey(value);
      findings.errors.push({
        code: 'invalid_partitions',
        path,
        message: `partition key ${JSON.stringify(value)} contains ${refused.join(' and ')}, which Dagster refuses in partition keys`,
        hint: clean && !values.includes(clean) ? `Use ${JSON.stringify(clean)} instead.` : 'Remove those characters from the key.',
      });
    }
    const earlier = firstAt.get(value);
    if (earlier !== undefined) {
      findings.errors.push({ code: 'duplicate_partition', path, message: `partition key ${JSON.stringify(value)} is already at /partitions/values/${earlier}`, hint: 'Dagster needs every partition key once; remove this one.' });
    } else firstAt.set(value, i);
  });
}

// Dagster writes a partition key with strftime's %Y, which does not pad years before 1000 ("1-02-01"),
// and cannot parse it back; near year 1 a zone ahead of UTC leaves Python's datetime range, and
// near 9999 the partition after the last one does. Real data lives well inside these bounds.
const FIRST_PARTITION_DATE = '1900-01-01';
const LAST_PARTITION_DATE = '2999-12-31';

// Date.parse takes "2024-02-30" as 1 March; a real date survives the round trip unchanged.
function isCalendarDate(value: string): boolean {
  const time = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value;
}
