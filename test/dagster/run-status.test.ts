import { describe, expect, it } from 'vitest';
import { seedStatusOf } from '../../src/dagster/run-status.ts';

describe("Dagster run status as the seed's words", () => {
  it.each([
    ['QUEUED', 'running'], ['NOT_STARTED', 'running'], ['STARTING', 'running'], ['STARTED', 'running'],
    ['SUCCESS', 'completed'], ['FAILURE', 'failed'], ['CANCELING', 'failed'], ['CANCELED', 'failed'],
  ])('%s → %s', (dagster, seed) => expect(seedStatusOf(dagster)).toBe(seed));
});
