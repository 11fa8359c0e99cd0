import { z } from 'zod';
import { AppError, type Issue } from '../errors.ts';
import { uniqueId, usableId } from './ids.ts';
import type { PipelineSpec } from './spec-schema.ts';

/**
 * The seed endpoint's jobs, schedules and sensors (`configuration.jobs`, `.schedules`, `.sensors`,
 * beside the older single `.schedule`), turned into spec entries. A request names blocks by UUID
 * (or by the id or name the pipeline gives them) and jobs by id or name; every reference that
 * names nothing is reported at its own path under /configuration, and so is every problem the
 * spec's validation later finds in these entries.
 */
const text = z.string().min(1);
export const seedJobSchema = z
  .object({
    id: text.optional().describe('Job id (lower snake_case); made from name when omitted'),
    name: text.max(200).optional().describe('Display name; schedules and sensors may name the job by it'),
    description: z.string().max(4000).optional(),
    blocks: z.array(text).min(1).describe('Blocks the job materializes: UUIDs from block_ids, or the ids/names of those blocks'),
    checks: z.boolean().optional().describe('false runs no asset check (an emergency refresh that skips checks)'),
  })
  .strict();
export const seedScheduleSchema = z
  .object({
    id: text.optional(),
    cron: text.describe('Five-field cron, e.g. "0 2 * * *"'),
    timezone: text.optional().describe('IANA zone; default configuration.timezone, else UTC'),
    job: text.optional().describe('Job id or name; omitted runs every block'),
    description: z.string().max(4000).optional(),
  })
  .strict();
export const seedSensorSchema = z
  .object({
    id: text.optional(),
    type: text.describe('A sensor block type, e.g. "file_arrival_sensor@1"'),
    job: text.optional().describe('Job id or name; omitted runs every block'),
    config: z.record(z.string(), z.unknown()).default({}),
    description: z.string().max(4000).optional(),
  })
  .strict();

export type SeedJob = z.infer<typeof seedJobSchema>;
export type SeedSchedule = z.infer<typeof seedScheduleSchema>;
export type SeedSensor = z.infer<typeof seedSensorSchema>;

export interface SeedTriggers {
  jobs?: SeedJob[] | undefined;
  schedules?: SeedSchedule[] | undefined;
  sensors?: SeedSensor[] | undefined;
  /** The older single schedule, placed first with id "schedule". */
  schedule?: { cron: string; timezone?: string | undefined } | undefined;
  timezone?: string | undefined;
}

type Triggers = Pick<PipelineSpec, 'jobs' | 'schedules' | 'sensors'>;

/**
 * The spec's jobs, schedules and sensors for a seed request. `blockIdOf` maps each block UUID of
 * block_ids to its spec id, `names` each block's display name to it; `taken` holds the spec ids
 * in use and receives the new ones. Also returns `pathOf`, which turns a spec path of these
 * entries back into the request's.
 */
export function seedTriggers(
  settings: SeedTriggers,
  blocks: { blockIdOf: Map<string, string>; names: Map<string, string> },
  taken: Set<string>,
): Triggers & { pathOf: (specPath: string) => string } {
  const issues: Issue[] = [];
  const specIds = new Set(blocks.blockIdOf.values());
  const blockRef = (ref: string, path: string): string => {
    const id = blocks.blockIdOf.get(ref.toLowerCase()) ?? (specIds.has(ref) ? ref : blocks.names.get(ref));
    if (id) return id;
    issues.push({ code: 'unknown_block', path, message: `"${ref}" names no block of this pipeline`, hint: `Name a block by its UUID from block_ids, or by its id: ${[...specIds].join(', ')}.` });
    return ref;
  };

  const jobIdOf = new Map<string, string>();
  const jobs = (settings.jobs ?? []).map((job, i) => {
    const at = `/configuration/jobs/${i}`;
    if (!job.id && !job.name) issues.push({ code: 'missing_field', path: `${at}/id`, message: 'a job needs an id or a name', hint: 'Add "id" (e.g. "daily_full") or "name" (e.g. "Daily full pipeline").' });
    const id = job.id ?? uniqueId(usableId(job.name ?? 'job', 'job'), taken);
    if (job.id) taken.add(job.id);
    for (const ref of [job.id, job.name]) if (ref) jobIdOf.set(ref, id);
    return {
      id,
      blocks: job.blocks.map((ref, b) => blockRef(ref, `${at}/blocks/${b}`)),
      ...(job.description ? { description: job.description } : job.name ? { description: job.name } : {}),
      ...(job.checks === undefined ? {} : { checks: job.checks }),
    };
  });
  const jobRef = (ref: string | undefined, path: string): string | undefined => {
    if (ref === undefined) return undefined;
    const id = jobIdOf.get(ref);
    if (id) return id;
    issues.push({ code: 'unknown_job', path, message: `there is no job "${ref}" in configuration.jobs`, hint: jobIdOf.size ? `Jobs: ${[...new Set(jobIdOf.values())].join(', ')}; or omit "job" to run every block.` : 'Declare the job in configuration.jobs, or omit "job" to run every block.' });
    return ref;
  };

  const single = settings.schedule ? [{ id: uniqueId('schedule', taken), cron: settings.schedule.cron, timezone: settings.schedule.timezone ?? settings.timezone ?? 'UTC' }] : [];
  const schedules = [
    ...single,
    ...(settings.schedules ?? []).map((s, i) => {
      const job = jobRef(s.job, `/configuration/schedules/${i}/job`);
      return {
        id: s.id ?? uniqueId('schedule', taken),
        cron: s.cron,
        timezone: s.timezone ?? settings.timezone ?? 'UTC',
        ...(job ? { job } : {}),
        ...(s.description ? { description: s.description } : {}),
      };
    }),
  ];
  const sensors = (settings.sensors ?? []).map((s, i) => {
    const job = jobRef(s.job, `/configuration/sensors/${i}/job`);
    return {
      id: s.id ?? uniqueId(usableId(s.type.split('@')[0]!, 'sensor'), taken),
      type: s.type,
      config: s.config,
      ...(job ? { job } : {}),
      ...(s.description ? { description: s.description } : {}),
    };
  });
  if (issues.length) throw new AppError('invalid:request', 'The configuration is invalid.', { issues });

  const pathOf = (specPath: string): string => {
    const [, kind, index, ...rest] = specPath.split('/');
    const tail = rest.length ? `/${rest.join('/')}` : '';
    if (kind === 'jobs' || kind === 'sensors') return `/configuration/${kind}/${index}${tail}`;
    if (kind === 'schedules') {
      const k = Number(index) - single.length;
      return k < 0 ? `/configuration/schedule${tail === '/cron' ? '' : tail}` : `/configuration/schedules/${k}${tail}`;
    }
    return specPath;
  };
  return { jobs, schedules, sensors, pathOf };
}

/** A spec validation error whose issues point into the request's configuration where they can. */
export function inRequestTerms(error: unknown, pathOf: (specPath: string) => string): unknown {
  if (!(error instanceof AppError) || error.code !== 'invalid:pipeline') return error;
  return new AppError('invalid:pipeline', error.message, {
    ...(error.hint ? { hint: error.hint } : {}),
    issues: error.issues.map((issue) => ({ ...issue, path: pathOf(issue.path) })),
  });
}
