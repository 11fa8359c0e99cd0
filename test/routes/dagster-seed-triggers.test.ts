import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// POST /dagster/pipelines/ with seed 004's jobs, several schedules and sensors in `configuration`.

async function placed(t: TestApp) {
  const make = async (name: string, block_type: string, config: Record<string, unknown>) => {
    const res = await t.call('POST', '/v1/blocks', { name, block_type, config });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const source = await make('Extract customers', 'postgres_incremental_extract@1', { table: 'public.customers' });
  const sink = await make('Load → ClickHouse', 'clickhouse_replacing_merge_tree_load@1', { table: 'customers', order_by: ['id'] });
  const edge = await t.call('POST', '/v1/edges', { source_block_id: source, source_port: 'rows', target_block_id: sink, target_port: 'rows' });
  expect(edge.status).toBe(201);
  return { source, sink };
}

describe('seed endpoint: jobs, schedules and sensors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite');
  });
  afterAll(() => t.close());

  const create = async (name: string, configuration: (ids: { source: string; sink: string }) => Record<string, unknown>) => {
    const ids = await placed(t);
    return { ids, res: await t.call('POST', '/dagster/pipelines/', { pipeline_name: name, block_ids: [ids.source, ids.sink], configuration: configuration(ids) }) };
  };

  it('builds jobs (blocks by UUID, id or name), several schedules on jobs, and sensors', async () => {
    const { ids, res } = await create('seed 004 triggers', ({ source, sink }) => ({
      timezone: 'Europe/Berlin',
      schedule: '0 3 * * *',
      jobs: [
        { name: 'Daily full pipeline', blocks: [source, sink.toUpperCase()] },
        { id: 'incremental_sync', blocks: ['extract_customers'] },
        { id: 'emergency_refresh', blocks: ['Extract customers', 'load_clickhouse'], checks: false },
      ],
      schedules: [
        { cron: '0 2 * * *', timezone: 'UTC', job: 'Daily full pipeline' },
        { id: 'every_6_hours', cron: '0 */6 * * *', job: 'incremental_sync' },
      ],
      sensors: [
        { type: 'github_release_sensor@1', job: 'emergency_refresh', config: { repository: 'acme/app' } },
        { id: 'on_upload', type: 'file_arrival_sensor@1', config: { local_directory: '/data/incoming' } },
      ],
    }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const { body } = await t.call('GET', `/v1/pipelines/${res.body.pipeline_id}`);
    expect(body.spec.jobs).toEqual([
      { id: 'daily_full_pipeline', blocks: ['extract_customers', 'load_clickhouse'], description: 'Daily full pipeline' },
      { id: 'incremental_sync', blocks: ['extract_customers'] },
      { id: 'emergency_refresh', blocks: ['extract_customers', 'load_clickhouse'], checks: false },
    ]);
    expect(body.spec.schedules).toEqual([
      { id: 'schedule', cron: '0 3 * * *', timezone: 'Europe/Berlin' },
      { id: 'schedule_2', cron: '0 2 * * *', timezone: 'UTC', job: 'daily_full_pipeline' },
      { id: 'every_6_hours', cron: '0 */6 * * *', timezone: 'Europe/Berlin', job: 'incremental_sync' },
    ]);
    expect(body.spec.sensors).toEqual([
      { id: 'github_release_sensor', type: 'github_release_sensor@1', job: 'emergency_refresh', config: { repository: 'acme/app' } },
      { id: 'on_upload', type: 'file_arrival_sensor@1', config: { local_directory: '/data/incoming' } },
    ]);
    expect(body.versions[0].origin.block_map).toEqual({ extract_customers: ids.source, load_clickhouse: ids.sink });
  });

  it('names a block or job that is not there at its path under /configuration', async () => {
    const { res } = await create('bad refs', () => ({
      jobs: [{ id: 'nightly', blocks: ['extract_customers', 'ghost'] }, { blocks: ['extract_customers'] }],
      schedules: [{ cron: '0 2 * * *', job: 'hourly' }],
      sensors: [{ type: 'file_arrival_sensor@1', job: 'nope', config: { local_directory: '/in' } }],
    }));
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { code: string; path: string }) => `${i.code} ${i.path}`)).toEqual([
      'unknown_block /configuration/jobs/0/blocks/1',
      'missing_field /configuration/jobs/1/id',
      'unknown_job /configuration/schedules/0/job',
      'unknown_job /configuration/sensors/0/job',
    ]);
    expect(res.body.error.issues[0].hint).toContain('extract_customers, load_clickhouse');
    expect(res.body.error.issues[2].hint).toContain('Jobs: nightly');
  });

  it('reports badly shaped entries, and what validation finds in them, under /configuration', async () => {
    const shape = await create('bad shape', () => ({ jobs: [{ id: 'x', blocks: [] }], sensors: [{ config: {} }] }));
    expect(shape.res.status).toBe(400);
    expect(shape.res.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['/configuration/jobs/0/blocks', '/configuration/sensors/0/type']);

    const deep = await create('bad sensor config', () => ({
      schedule: '0 1 * * *',
      schedules: [{ cron: '0 25 * * *' }],
      sensors: [{ type: 'github_release_sensor@1', config: { repository: 'no slash' } }],
    }));
    expect(deep.res.status).toBe(400);
    expect(deep.res.body.error.issues.map((i: { code: string; path: string }) => `${i.code} ${i.path}`).sort()).toEqual([
      'invalid_config /configuration/sensors/0/config/repository',
      'invalid_cron /configuration/schedules/0/cron',
    ]);
  });

  it('documents the new keys with an example in /openapi.json', async () => {
    const doc = (await t.call('GET', '/openapi.json')).body;
    const operation = doc.paths['/dagster/pipelines'].post;
    for (const key of ['`jobs`', '`schedules`', '`sensors`', 'checks: false']) expect(operation.description).toContain(key);
    const schema = operation.requestBody.content['application/json'].schema;
    const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
    const example = resolved.properties.configuration.example;
    expect(Object.keys(example)).toEqual(expect.arrayContaining(['jobs', 'schedules', 'sensors']));
  });
});
