import { describe, expect, it } from 'vitest';
import { anythingInFlight, deploymentInFlight, FAST_POLL_MS, IDLE_POLL_MS, listInFlight, pollDelay } from '../../web/side/polling.ts';
import { deploymentStatusView, isRunFinished, runStatusView } from '../../web/side/status.ts';

describe('side view statuses', () => {
  it('colours each deployment status the service can answer', () => {
    expect(deploymentStatusView('deployed').tone).toBe('ok');
    expect(deploymentStatusView('failed').tone).toBe('bad');
    expect(deploymentStatusView('in_progress').tone).toBe('busy');
    expect(deploymentStatusView('written').tone).toBe('busy');
    expect(deploymentStatusView('written').explain).toMatch(/Dagster/);
    expect(deploymentStatusView('pending').tone).toBe('idle');
    expect(deploymentStatusView('something_new')).toEqual({ tone: 'idle', explain: 'something_new' });
  });

  it("reads Dagster's run statuses: finished ones settle, unknown ones count as moving", () => {
    expect(['SUCCESS', 'FAILURE', 'CANCELED'].map(isRunFinished)).toEqual([true, true, true]);
    expect(['QUEUED', 'STARTING', 'STARTED', 'CANCELING', 'MANAGED', 'NEW_IN_DAGSTER_2'].map(isRunFinished)).toEqual([false, false, false, false, false, false]);
    expect(runStatusView('SUCCESS').tone).toBe('ok');
    expect(runStatusView('FAILURE').tone).toBe('bad');
    expect(runStatusView('CANCELED').tone).toBe('bad');
    expect(runStatusView('QUEUED').tone).toBe('idle');
    expect(runStatusView('STARTED').tone).toBe('busy');
    expect(runStatusView('NEW_IN_DAGSTER_2').tone).toBe('busy');
  });
});

describe('polling decision', () => {
  it('polls fast while a deployment is queued, deploying or waiting for Dagster to load it', () => {
    expect(['pending', 'in_progress', 'written'].map(deploymentInFlight)).toEqual([true, true, true]);
    expect(['deployed', 'failed'].map(deploymentInFlight)).toEqual([false, false]);
    expect(pollDelay({ deployments: [{ status: 'deployed' }, { status: 'written' }] })).toBe(FAST_POLL_MS);
  });

  it('polls fast while any run has not finished, slowly once everything has settled', () => {
    const settled = { deployments: [{ status: 'deployed' }, { status: 'failed' }], runs: [{ dagster_status: 'SUCCESS' }, { dagster_status: 'FAILURE' }] };
    expect(anythingInFlight(settled)).toBe(false);
    expect(pollDelay(settled)).toBe(IDLE_POLL_MS);
    expect(pollDelay({ ...settled, runs: [...settled.runs, { dagster_status: 'QUEUED' }] })).toBe(FAST_POLL_MS);
    expect(pollDelay({})).toBe(IDLE_POLL_MS);
    expect(FAST_POLL_MS).toBeLessThan(IDLE_POLL_MS);
  });

  it("does not count the list's pending (which also means never deployed) as in flight", () => {
    expect(listInFlight(['pending', 'deployed', 'failed'])).toBe(false);
    expect(listInFlight(['pending', 'written'])).toBe(true);
    expect(listInFlight(['in_progress'])).toBe(true);
  });
});
