import { describe, expect, it } from 'vitest';
import { backfillError, backfillStatus } from '../../src/dagster/backfill-service.ts';
import { selectPartitions } from '../../src/dagster/partition-keys.ts';
import type { AppError } from '../../src/errors.ts';

const refusal = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (error) {
    return error as AppError;
  }
  throw new Error('not refused');
};

describe('selectPartitions: which of Dagster\'s keys a request names', () => {
  const weekly = { type: 'weekly' as const, start_date: '2024-01-01', end_date: '2024-03-01', timezone: 'UTC' };
  const weeks = ['2024-01-07', '2024-01-14', '2024-01-21', '2024-01-28', '2024-02-04', '2024-02-11', '2024-02-18'];

  it('takes a range in Dagster\'s order, both ends included, and a list without repeats', () => {
    expect(selectPartitions(weekly, weeks, { from: '2024-01-14', to: '2024-01-28' })).toEqual(['2024-01-14', '2024-01-21', '2024-01-28']);
    expect(selectPartitions(weekly, weeks, { partitions: ['2024-01-14', '2024-01-14'] })).toEqual(['2024-01-14']);
    const regions = { type: 'static' as const, values: ['eu', 'us', 'apac'] };
    expect(selectPartitions(regions, regions.values, { from: 'us', to: 'apac' })).toEqual(['us', 'apac']);
  });

  it('says why a key is not a partition: not a week start, past end_date, a static value it lacks', () => {
    const between = refusal(() => selectPartitions(weekly, weeks, { from: '2024-01-15', to: '2024-01-28' }));
    expect(between.issues[0]).toMatchObject({ path: '/from', code: 'unknown_partition', hint: expect.stringContaining('the date each week starts') });
    expect(between.message).toContain('between "2024-01-07" and "2024-02-18" but not a key');
    const late = refusal(() => selectPartitions(weekly, weeks, { partitions: ['2024-03-03'] }));
    expect(late.message).toContain('end before end_date 2024-03-01; the last is "2024-02-18"');
    const regions = { type: 'static' as const, values: ['eu', 'us'] };
    expect(refusal(() => selectPartitions(regions, regions.values, { partition: 'mars' })).issues[0]).toMatchObject({ path: '/partition', message: expect.stringContaining('the partitions are "eu", "us"') });
    const none = refusal(() => selectPartitions({ type: 'daily', start_date: '2099-01-01', timezone: 'UTC' }, [], { partition: '2099-01-01' }));
    expect(none.message).toContain('no daily window since start_date 2099-01-01 has ended yet');
  });

  it('caps a backfill and says how to split it', () => {
    const error = refusal(() => selectPartitions(weekly, weeks, { from: '2024-01-07', to: '2024-02-18' }, 5));
    expect(error.hint).toBe('Split it: from "2024-01-07" to "2024-02-04" first, then from "2024-02-11" on.');
  });
});

describe('backfillStatus: done when every partition\'s run has ended', () => {
  const p = (succeeded: number, failed: number, in_progress: number, not_started: number) => ({ total: succeeded + failed + in_progress + not_started, succeeded, failed, in_progress, not_started });
  it.each([
    ['REQUESTED', p(0, 0, 0, 3), 'requested'],
    ['REQUESTED', p(1, 0, 1, 1), 'in_progress'],
    ['REQUESTED', p(3, 0, 0, 0), 'completed'],
    ['COMPLETED_SUCCESS', p(3, 0, 0, 0), 'completed'],
    ['COMPLETED_FAILED', p(2, 1, 0, 0), 'failed'],
    ['FAILED', p(0, 0, 0, 3), 'failed'],
    ['CANCELING', p(1, 0, 1, 1), 'canceled'],
  ] as const)('%s with %j is %s', (dagster, partitions, expected) => {
    expect(backfillStatus(dagster, partitions)).toBe(expected);
  });
});

describe('backfillError', () => {
  it("says to start again when Dagster's daemon did not know the location yet, and passes other errors on", () => {
    expect(backfillError('dagster._core.errors.DagsterCodeLocationNotFoundError: Location local_shard_1 does not exist in workspace')).toBe(
      "DagsterCodeLocationNotFoundError: Location local_shard_1 does not exist in workspace. Dagster's daemon had not loaded this version of the pipeline yet (it reloads its workspace about once a minute after a deploy): start the backfill again in a minute.",
    );
    expect(backfillError('KeyError: boom')).toBe('KeyError: boom');
  });
});
