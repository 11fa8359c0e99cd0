import { JOB_PARTITION_KEYS } from '../adapters/dagster/documents.ts';
import { dagsterRefusal } from '../adapters/dagster/dagster-errors.ts';
import { AppError, type Issue } from '../errors.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import type { LiveJob } from './pipeline-scope.ts';

/** Which partitions: a range of them (both ends included), a list, or one (a run's). */
export type PartitionRequest = { from: string; to: string } | { partitions: string[] } | { partition: string };

/** The fields a backfill request sends: from and to, or partitions. */
export interface PartitionFields {
  from?: string | null | undefined;
  to?: string | null | undefined;
  partitions?: string[] | null | undefined;
}

/** The most partitions one backfill may cover: a year of days. */
export const MAX_BACKFILL_PARTITIONS = 366;

type Partitions = NonNullable<PipelineSpec['partitions']>;

const KEY_SHAPE: Record<Partitions['type'], string> = {
  hourly: 'hourly keys look like "2024-01-31-13:00"',
  daily: 'daily keys look like "2024-01-31"',
  weekly: 'weekly keys are the date each week starts, like "2024-01-28"',
  monthly: 'monthly keys are the first day of the month, like "2024-01-01"',
  static: 'static keys are the values the spec lists',
};

/**
 * What a caller sent (REST body or tool arguments: from and to, or partitions) as a request, or
 * an error that names the field to fix. Nulls count as absent (strict tool schemas send them).
 */
export function partitionRequestOf(input: PartitionFields): PartitionRequest {
  const { from, to, partitions } = input;
  const fix = (path: string, message: string, hint: string) => new AppError('invalid:partitions', message, { hint, issues: [{ code: 'partitions_choice', path, message, hint }] });
  const both = 'Send either "from" and "to" (a range, both included) or "partitions" (a list of keys), not both.';
  if (partitions) {
    if (from || to) throw fix(from ? '/from' : '/to', 'Both a range and a partitions list were given.', both);
    return { partitions };
  }
  if (!from || !to) throw fix(from ? '/to' : '/from', `"${from ? 'to' : 'from'}" is missing.`, both);
  return { from, to };
}

/**
 * The partitions a request names, each one a partition of the live job as Dagster computes it
 * now: Dagster lists time windows from start_date up to the last one that has ended (and before
 * end_date), so a key outside that list is refused here with the reason, never sent to Dagster.
 */
export async function partitionsFor(target: LiveJob, request: PartitionRequest, max = MAX_BACKFILL_PARTITIONS): Promise<string[]> {
  const partitions = target.compiled.view.version.spec.partitions;
  if (!partitions) {
    throw new AppError('conflict:not_partitioned', `Version ${target.live.version} of this pipeline, live in "${target.env}", has no partitions, so it has none to backfill or run.`, {
      hint: 'Add "partitions" to the spec (e.g. {"type": "daily", "start_date": "2024-01-01"}) and deploy it, or launch a plain run.',
    });
  }
  const { repositoryLocationName, repositoryName, jobName } = target.selector;
  const data = await target.client.request(JOB_PARTITION_KEYS, { selector: { repositoryLocationName, repositoryName, pipelineName: jobName } });
  const job = data.pipelineOrError;
  if (job.__typename !== 'Pipeline') throw dagsterRefusal(job, `Dagster could not list the partitions of job "${target.job}"`);
  return selectPartitions(partitions, job.partitionKeysOrError.partitionKeys as string[], request, max);
}

/** The keys a request names among `keys` (Dagster's, in its order), or an error naming each field at fault. */
export function selectPartitions(partitions: Partitions, keys: string[], request: PartitionRequest, max = MAX_BACKFILL_PARTITIONS): string[] {
  const index = new Map(keys.map((k, i) => [k, i]));
  const issues: Issue[] = [];
  const check = (key: string, path: string) => {
    if (!index.has(key)) issues.push({ code: 'unknown_partition', path, message: `"${key}" is not a partition of this pipeline: ${whyNot(key, partitions, keys)}`, hint: KEY_SHAPE[partitions.type] });
  };
  let selected: string[];
  if ('partition' in request) {
    check(request.partition, '/partition');
    selected = [request.partition];
  } else if ('partitions' in request) {
    request.partitions.forEach((key, i) => check(key, `/partitions/${i}`));
    selected = [...new Set(request.partitions)];
  } else {
    check(request.from, '/from');
    check(request.to, '/to');
    const [from, to] = [index.get(request.from), index.get(request.to)];
    if (from !== undefined && to !== undefined && from > to) {
      issues.push({ code: 'from_after_to', path: '/from', message: `from ("${request.from}") comes after to ("${request.to}")`, hint: 'Swap them: from is the first partition, to the last (both included).' });
    }
    selected = from !== undefined && to !== undefined ? keys.slice(from, to + 1) : [];
  }
  if (issues.length) throw new AppError('invalid:partitions', issues.map((i) => i.message).join('; '), { hint: issues[0]!.hint!, issues });
  if (selected.length === 0) {
    throw new AppError('invalid:partitions', 'No partitions were named.', { hint: 'Give from and to, or a non-empty partitions list.', issues: [{ code: 'empty', path: '/partitions', message: 'no partitions' }] });
  }
  if (selected.length > max) {
    throw new AppError('invalid:partitions', `That is ${selected.length} partitions; one backfill takes at most ${max}.`, {
      hint: `Split it: from "${selected[0]}" to "${selected[max - 1]}" first, then from "${selected[max]}" on.`,
      issues: [{ code: 'too_many_partitions', path: 'partitions' in request ? '/partitions' : '/to', message: `${selected.length} partitions, more than ${max}` }],
    });
  }
  return selected;
}

/** Why a key is not among Dagster's keys, in the spec's words (start_date, end_date, windows not ended). */
function whyNot(key: string, partitions: Partitions, keys: string[]): string {
  if (partitions.type === 'static') return `the partitions are ${keys.slice(0, 10).map((k) => `"${k}"`).join(', ')}${keys.length > 10 ? ', …' : ''}`;
  const [first, last] = [keys[0], keys.at(-1)];
  if (!first || !last) return `no ${partitions.type} window since start_date ${partitions.start_date} has ended yet`;
  if (key < first) return `it is before the first partition, "${first}" (start_date ${partitions.start_date})`;
  if (key > last) {
    if (partitions.end_date && key >= partitions.end_date) return `the partitions end before end_date ${partitions.end_date}; the last is "${last}"`;
    return `its window has not ended yet (or it is in the future); the latest complete partition is "${last}"`;
  }
  return `between "${first}" and "${last}" but not a key`;
}
