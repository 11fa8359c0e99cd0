import { describe, expect, it } from 'vitest';
import { locationJobsUrl, locationUrl, pipelineRunsUrl, runUrl, uiBase } from '../../web/side/dagster-links.ts';

describe("links into Dagster's UI", () => {
  it('takes the UI base from what the environments route answers, tolerating a GraphQL URL or a trailing slash', () => {
    expect(uiBase('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
    expect(uiBase('http://127.0.0.1:3000/')).toBe('http://127.0.0.1:3000');
    expect(uiBase('http://dagster.internal/prefix/graphql')).toBe('http://dagster.internal/prefix');
    expect(uiBase(null)).toBeNull();
    expect(uiBase('')).toBeNull();
  });

  it('links a run, a code location and its jobs by their UI routes, escaping names', () => {
    const base = 'http://127.0.0.1:3000';
    expect(runUrl(base, 'a1b2c3')).toBe('http://127.0.0.1:3000/runs/a1b2c3');
    expect(locationUrl(base, 'acme_shard_1')).toBe('http://127.0.0.1:3000/locations/acme_shard_1');
    expect(locationJobsUrl(base, 'acme_shard_1')).toBe('http://127.0.0.1:3000/locations/acme_shard_1/jobs');
    expect(locationUrl(base, 'odd/name')).toBe('http://127.0.0.1:3000/locations/odd%2Fname');
  });

  it("filters Dagster's run list by the pipeline's tag", () => {
    const url = new URL(pipelineRunsUrl('http://127.0.0.1:3000', '0b6e1f9e-1111-4222-8333-444455556666'));
    expect(url.pathname).toBe('/runs');
    expect(url.searchParams.getAll('q[]')).toEqual(['tag:constellation/pipeline_id=0b6e1f9e-1111-4222-8333-444455556666']);
  });
});
