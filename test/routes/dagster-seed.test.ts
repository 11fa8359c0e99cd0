import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/databases.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// The seed's Dagster microservice API: request and response bodies exactly as the seed writes them.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const MISSING = '7f3c1a52-9d4e-4b8a-8c21-5e6f7a8b9c0d';

const expectIso = (value: unknown) => {
  expect(value).toMatch(ISO);
  expect(new Date(value as string).toISOString()).toBe(value);
};

async function block(t: TestApp, name: string, block_type: string, config: Record<string, unknown>): Promise<string> {
  const res = await t.call('POST', '/v1/blocks', { name, block_type, config });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function edge(t: TestApp, source: string, sourcePort: string, target: string, targetPort: string): Promise<string> {
  const res = await t.call('POST', '/v1/edges', { source_block_id: source, source_port: sourcePort, target_block_id: target, target_port: targetPort });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const extract = (t: TestApp, name = 'Extract customers') => block(t, name, 'postgres_incremental_extract', { table: 'public.customers' });
const load = (t: TestApp, name = 'Load → ClickHouse') => block(t, name, 'clickhouse_replacing_merge_tree_load@1', { table: 'customers', order_by: ['id'] });

/** An extract feeding a load: the seed's smallest useful pipeline. */
async function twoBlocks(t: TestApp) {
  const source = await extract(t);
  const sink = await load(t);
  await edge(t, source, 'rows', sink, 'rows');
  return { source, sink };
}

async function createPipeline(t: TestApp, name: string) {
  const { source, sink } = await twoBlocks(t);
  const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: name, block_ids: [source, sink], configuration: {} });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.pipeline_id as string;
}

describe.each(STORE_KINDS)('Dagster seed API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { environments: [writeOnlyEnvironment('staging', { secrets: ['POSTGRES_URL', 'CLICKHOUSE_URL'] })] });
  });
  afterAll(() => t.close());

  describe('POST /dagster/pipelines/', () => {
    it('answers exactly the seed response, with and without the trailing slash', async () => {
      for (const [path, name] of [['/dagster/pipelines/', 'customers with slash'], ['/dagster/pipelines', 'customers without slash']] as const) {
        const { source, sink } = await twoBlocks(t);
        const res = await t.call('POST', path, { pipeline_name: name, block_ids: [source, sink], configuration: {} });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(res.body).toEqual({ pipeline_id: expect.stringMatching(UUID), message: 'Pipeline created successfully.', deployment_status: 'pending' });
        const stored = await t.call('GET', `/v1/pipelines/${res.body.pipeline_id}`);
        expect(stored.status).toBe(200);
        expect(stored.body.name).toBe(name);
      }
    });

    it('builds the spec from the blocks, their edges and the configuration', async () => {
      const source = await extract(t);
      const sink = await load(t);
      await edge(t, source, 'rows', sink, 'rows');
      const res = await t.call('POST', '/dagster/pipelines/', {
        pipeline_name: 'customers to clickhouse',
        block_ids: [source, sink],
        configuration: {
          schedule: '0 */6 * * *',
          environment: 'staging',
          retry_policy: { max_retries: 3, delay_seconds: 10 },
          description: 'Customers, every six hours',
          [source]: { batch_size: 500 },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);

      const { body } = await t.call('GET', `/v1/pipelines/${res.body.pipeline_id}`);
      expect(body.spec).toMatchObject({
        name: 'customers to clickhouse',
        description: 'Customers, every six hours',
        blocks: [
          {
            id: 'extract_customers',
            type: 'postgres_incremental_extract@1',
            name: 'Extract customers',
            // The override merges into the block's own config rather than replacing it.
            config: { table: 'public.customers', batch_size: 500 },
          },
          { id: 'load_clickhouse', type: 'clickhouse_replacing_merge_tree_load@1', name: 'Load → ClickHouse', config: { table: 'customers', order_by: ['id'] } },
        ],
        edges: [{ from: { block: 'extract_customers', port: 'rows' }, to: { block: 'load_clickhouse', port: 'rows' } }],
        schedules: [{ id: 'schedule', cron: '0 */6 * * *', timezone: 'UTC' }],
        environment: 'staging',
        retry_policy: { max_retries: 3, delay_seconds: 10 },
      });
      expect(body.spec.blocks).toHaveLength(2);
      expect(body.spec.schedules).toHaveLength(1);
      expect(body.versions).toHaveLength(1);
      expect(body.versions[0].origin).toMatchObject({
        kind: 'blocks',
        block_ids: [source, sink],
        block_map: { extract_customers: source, load_clickhouse: sink },
      });

      // The override lives in the pipeline only; the placed block keeps its own config.
      const placed = await t.call('GET', `/v1/blocks/${source}`);
      expect(placed.body.config).toEqual({ table: 'public.customers' });
    });

    it('makes ids unique and keeps only the edges among the listed blocks', async () => {
      const source = await extract(t, 'Orders');
      const first = await load(t, 'Load');
      const second = await load(t, 'Load');
      const outside = await load(t, 'Outside');
      await edge(t, source, 'rows', first, 'rows');
      await edge(t, source, 'rows', second, 'rows');
      await edge(t, source, 'rows', outside, 'rows');

      const res = await t.call('POST', '/dagster/pipelines', { pipeline_name: 'orders fan-out', block_ids: [source, first, second], configuration: {} });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const { body } = await t.call('GET', `/v1/pipelines/${res.body.pipeline_id}`);
      expect(body.spec.blocks.map((b: { id: string }) => b.id)).toEqual(['orders', 'load', 'load_2']);
      expect(body.spec.edges).toHaveLength(2);
      expect(body.spec.edges).toEqual(
        expect.arrayContaining([
          { from: { block: 'orders', port: 'rows' }, to: { block: 'load', port: 'rows' } },
          { from: { block: 'orders', port: 'rows' }, to: { block: 'load_2', port: 'rows' } },
        ]),
      );
      expect(JSON.stringify(body.spec)).not.toContain('outside');
      expect(body.spec.schedules).toEqual([]);
      expect(body.versions[0].origin.block_map).toEqual({ orders: source, load: first, load_2: second });
    });

    it('takes a schedule object and a pipeline timezone', async () => {
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', {
        pipeline_name: 'berlin mornings',
        block_ids: [source, sink],
        configuration: { schedule: { cron: '0 6 * * *' }, timezone: 'Europe/Berlin' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const { body } = await t.call('GET', `/v1/pipelines/${res.body.pipeline_id}`);
      expect(body.spec.schedules).toEqual([{ id: 'schedule', cron: '0 6 * * *', timezone: 'Europe/Berlin' }]);
    });

    it('accepts block UUIDs in upper case, in block_ids and as override keys', async () => {
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', {
        pipeline_name: 'upper case ids',
        block_ids: [source.toUpperCase(), sink.toUpperCase()],
        configuration: { [source.toUpperCase()]: { batch_size: 7 } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const { body } = await t.call('GET', `/v1/pipelines/${res.body.pipeline_id}`);
      expect(body.spec.blocks[0].config).toEqual({ table: 'public.customers', batch_size: 7 });
      expect(body.spec.edges).toHaveLength(1);

      const twice = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'same id twice', block_ids: [source, source.toUpperCase()], configuration: {} });
      expect(twice.status).toBe(400);
      expect(twice.body.error.issues).toEqual([expect.objectContaining({ code: 'duplicate_id', path: '/block_ids/1' })]);
    });

    it('says which block does not exist (404 with the index in block_ids)', async () => {
      const { source } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'ghost', block_ids: [source, MISSING], configuration: {} });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found:block');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/block_ids/1', hint: expect.any(String) })]);
      expect(res.body.error.issues[0].message).toContain(MISSING);
    });

    it('rejects a block listed twice', async () => {
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'twice', block_ids: [source, sink, source], configuration: {} });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:request');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'duplicate_id', path: '/block_ids/2' })]);
    });

    it('names an unknown configuration key and lists the accepted ones', async () => {
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'typo', block_ids: [source, sink], configuration: { schedul: '0 * * * *' } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:request');
      const [issue, ...rest] = res.body.error.issues;
      expect(rest).toEqual([]);
      expect(issue.path).toBe('/configuration/schedul');
      expect(issue.message).toContain('schedul');
      for (const key of ['schedule', 'timezone', 'environment', 'retry_policy', 'description']) expect(issue.hint).toContain(key);
      expect(issue.hint).toMatch(/UUID/);
    });

    it('reports a badly shaped setting at its path under /configuration', async () => {
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', {
        pipeline_name: 'bad retry',
        block_ids: [source, sink],
        configuration: { retry_policy: { max_retries: 'three' } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/configuration/retry_policy/max_retries' })]);
    });

    it('refuses a timezone with no schedule to apply it to', async () => {
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'zone only', block_ids: [source, sink], configuration: { timezone: 'Europe/Berlin' } });
      expect(res.status).toBe(400);
      expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/configuration/timezone', hint: expect.stringContaining('schedule') })]);
    });

    it('rejects an override for a block that is not in block_ids', async () => {
      const { source, sink } = await twoBlocks(t);
      const stray = await extract(t, 'Stray');
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'stray override', block_ids: [source, sink], configuration: { [stray]: { batch_size: 5 } } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:request');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'unknown_block', path: `/configuration/${stray}`, hint: expect.any(String) })]);
    });

    it('rejects an override that breaks the block config, at its spec path, storing nothing', async () => {
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'bad override', block_ids: [source, sink], configuration: { [source]: { batch_size: 0 } } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:pipeline');
      expect(res.body.error.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/blocks/0/config/batch_size' })]));
    });

    it('refuses blocks whose required input is unconnected, and stores nothing', async () => {
      const before = (await t.call('GET', '/dagster/pipelines/')).body.pipelines.length;
      const sink = await load(t, 'Lonely load');
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'unconnected', block_ids: [sink], configuration: {} });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:pipeline');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'missing_port', path: '/blocks/0' })]);
      expect(res.body.error.issues[0].message).toContain('rows');
      const after = (await t.call('GET', '/dagster/pipelines/')).body.pipelines;
      expect(after).toHaveLength(before);
      expect(after.map((p: { pipeline_name: string }) => p.pipeline_name)).not.toContain('unconnected');
    });

    it('refuses a pipeline name already in use (409)', async () => {
      await createPipeline(t, 'taken name');
      const { source, sink } = await twoBlocks(t);
      const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'taken name', block_ids: [source, sink], configuration: {} });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict:pipeline_name');
      expect(res.body.error.hint).toEqual(expect.any(String));
    });
  });

  describe('GET /dagster/pipelines/', () => {
    it('lists pipelines with exactly the seed keys', async () => {
      const id = await createPipeline(t, 'listed');
      for (const path of ['/dagster/pipelines/', '/dagster/pipelines']) {
        const res = await t.call('GET', path);
        expect(res.status).toBe(200);
        expect(Object.keys(res.body)).toEqual(['pipelines']);
        expect(res.body.pipelines.length).toBeGreaterThan(0);
        for (const item of res.body.pipelines) {
          expect(Object.keys(item).sort()).toEqual(['created_at', 'last_updated', 'pipeline_id', 'pipeline_name', 'status']);
          expect(item.pipeline_id).toMatch(UUID);
          expectIso(item.created_at);
          expectIso(item.last_updated);
        }
        expect(res.body.pipelines).toContainEqual({ pipeline_id: id, pipeline_name: 'listed', status: 'pending', created_at: expect.any(String), last_updated: expect.any(String) });
      }
    });
  });

  describe('GET /dagster/pipelines/{id}/status/', () => {
    it('is pending before any deployment, with and without the trailing slash', async () => {
      const id = await createPipeline(t, 'status check');
      for (const path of [`/dagster/pipelines/${id}/status/`, `/dagster/pipelines/${id}/status`]) {
        const res = await t.call('GET', path);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ pipeline_id: id, status: 'pending' });
        expectIso(res.body.last_updated);
      }
    });

    it('is 404 for an unknown pipeline and 400 for a malformed id', async () => {
      const missing = await t.call('GET', `/dagster/pipelines/${MISSING}/status/`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found:pipeline');
      const malformed = await t.call('GET', '/dagster/pipelines/not-a-uuid/status/');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.issues).toEqual([expect.objectContaining({ path: '/param/pipeline_id' })]);
    });
  });

  describe('DELETE /dagster/pipelines/{id}/', () => {
    it('answers exactly the seed message, then the pipeline is gone', async () => {
      const id = await createPipeline(t, 'to delete');
      const res = await t.call('DELETE', `/dagster/pipelines/${id}/`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: 'Pipeline deleted successfully.' });
      expect((await t.call('GET', `/dagster/pipelines/${id}/status/`)).status).toBe(404);
      expect((await t.call('GET', `/v1/pipelines/${id}`)).status).toBe(404);
      const again = await t.call('DELETE', `/dagster/pipelines/${id}`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('not_found:pipeline');
    });
  });

  describe('POST /dagster/pipelines/{id}/deploy/', () => {
    it('answers exactly the seed body at once, and the deployment carries on in the background', async () => {
      const id = await createPipeline(t, 'deployable');
      const res = await t.call('POST', `/dagster/pipelines/${id}/deploy/`, { environment: 'staging' });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ pipeline_id: id, message: 'Pipeline deployment initiated.', deployment_status: 'in_progress' });
      let status: any;
      for (let i = 0; i < 100; i++) {
        status = (await t.call('GET', `/dagster/pipelines/${id}/status/`)).body;
        if (['written', 'deployed', 'failed'].includes(status.deployment_status)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // This environment has no Dagster: the location is written, and the status says so plainly.
      expect(status).toMatchObject({ pipeline_id: id, status: 'written', deployment_status: 'written', run: null });
      expect(status.deployment.message).toMatch(/no Dagster GraphQL URL is configured for "staging"/);
    });

    it('refuses an environment that is not configured, naming the ones that are', async () => {
      const id = await createPipeline(t, 'nowhere to go');
      const res = await t.call('POST', `/dagster/pipelines/${id}/deploy/`, { environment: 'production' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:environment');
      expect(res.body.error.hint).toContain('staging');
    });

    it('is 404 for an unknown pipeline and 400 without an environment', async () => {
      const unknown = await t.call('POST', `/dagster/pipelines/${MISSING}/deploy/`, { environment: 'staging' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('not_found:pipeline');

      const id = await createPipeline(t, 'deploy without environment');
      const missing = await t.call('POST', `/dagster/pipelines/${id}/deploy/`, {});
      expect(missing.status).toBe(400);
      expect(missing.body.error.code).toBe('invalid:request');
      expect(missing.body.error.issues).toEqual([expect.objectContaining({ code: 'missing_field', path: '/environment' })]);
    });
  });

  describe('POST /dagster/compile/', () => {
    it('refuses a repository it may not fetch with 400 naming repo_url (the compile itself: test/code-repos/code-compile.test.ts)', async () => {
      const res = await t.call('POST', '/dagster/compile/', { repo_url: 'http://github.com/acme/pipelines.git', branch: 'main' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid:repo_url', issues: [expect.objectContaining({ path: '/repo_url' })] });
    });

    it('needs a branch', async () => {
      const res = await t.call('POST', '/dagster/compile/', { repo_url: 'https://github.com/acme/pipelines.git' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid:request');
      expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'missing_field', path: '/branch' })]);
    });
  });
});
