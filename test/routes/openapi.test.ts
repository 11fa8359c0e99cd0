import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { loadEnvironments } from '../../src/dagster/environments.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// The OpenAPI document is how clients (and models) learn the API: it must list every route served.

const ROUTES: Record<string, string[]> = {
  '/health': ['get'],
  '/health/ready': ['get'],
  '/metrics': ['get'],
  '/v1/audit': ['get'],
  '/v1/block-types': ['get'],
  '/v1/block-types/{ref}': ['get'],
  '/v1/blocks': ['get', 'post'],
  '/v1/blocks/{id}': ['delete', 'get', 'patch'],
  '/v1/edges': ['get', 'post'],
  '/v1/edges/{id}': ['delete', 'get'],
  '/v1/pipelines': ['get', 'post'],
  '/v1/pipelines/{id}': ['delete', 'get', 'patch', 'put'],
  '/v1/pipelines/validate': ['post'],
  '/v1/pipelines/{id}/backfills': ['post'],
  '/v1/pipelines/{id}/backfills/{backfill_id}': ['get'],
  '/v1/pipelines/{id}/compile': ['post'],
  '/v1/pipelines/{id}/deployments': ['get', 'post'],
  '/v1/deployments/{id}': ['get'],
  '/v1/pipelines/{id}/runs': ['get', 'post'],
  '/v1/pipelines/{id}/runs/{run_id}': ['get'],
  '/v1/pipelines/{id}/runs/{run_id}/logs': ['get'],
  '/v1/pipelines/{id}/runs/{run_id}/terminate': ['post'],
  '/v1/pipelines/{id}/triggers/pause': ['post'],
  '/v1/pipelines/{id}/triggers/resume': ['post'],
  '/v1/environments': ['get'],
  '/v1/environments/{env}/inspect-source': ['post'],
  '/v1/chat': ['post'],
  '/v1/chat/{id}/stream': ['get'],
  '/v1/chat/{id}/stop': ['post'],
  '/v1/chat/status': ['get'],
  '/v1/chats': ['get'],
  '/v1/chats/{id}': ['delete', 'get'],
  '/dagster/pipelines': ['get', 'post'],
  '/dagster/pipelines/{pipeline_id}/status': ['get'],
  '/dagster/pipelines/{pipeline_id}': ['delete'],
  '/dagster/pipelines/{pipeline_id}/deploy': ['post'],
  '/dagster/compile': ['post'],
  '/dagster/compile/{compile_id}': ['get'],
  '/v1/code-repos': ['get'],
  '/v1/block-types/{ref}/retire': ['post'],
  '/v1/api-keys': ['get', 'post'],
  '/v1/api-keys/{id}/rotate': ['post'],
  '/v1/api-keys/{id}': ['delete'],
  '/v1/me': ['get'],
  '/v1/approvals': ['get'],
  '/v1/approvals/{id}/approve': ['post'],
  '/v1/approvals/{id}/deny': ['post'],
  '/mcp': ['delete', 'get', 'post'],
};
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, { description?: string; requestBody?: { content: Record<string, { example?: any; schema: { $ref?: string; properties?: Record<string, unknown>; required?: string[] } }> }; responses: Record<string, unknown> }>>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
};

describe('GET /openapi.json', () => {
  let t: TestApp;
  let doc: Doc;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    const res = await t.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(() => t.close());

  it('is OpenAPI 3.1.0 with a title and version', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
  });

  it('lists every route the app serves, with exactly its methods', () => {
    const served = Object.fromEntries(
      Object.entries(doc.paths).map(([path, item]) => [path, Object.keys(item).filter((k) => METHODS.includes(k)).sort()]),
    );
    expect(served).toEqual(ROUTES);
  });

  it('describes every served route: each documented operation answers (not a routing 404)', async () => {
    const ID = '7f3c1a52-9d4e-4b8a-8c21-5e6f7a8b9c0d';
    for (const [path, methods] of Object.entries(ROUTES)) {
      const url = path.replace('{ref}', 's3_files').replace(/\{\w+\}/, ID);
      for (const method of methods) {
        const res = await t.call(method.toUpperCase(), url, ['post', 'put', 'patch'].includes(method) ? {} : undefined);
        expect(res.body?.error?.code, `${method} ${url}`).not.toBe('not_found:route');
      }
    }
  });

  it('documents the seed create request: pipeline_name, block_ids, configuration', () => {
    const schema = doc.paths['/dagster/pipelines']!.post!.requestBody!.content['application/json']!.schema;
    const resolved = schema.$ref ? doc.components!.schemas![schema.$ref.split('/').pop()!]! : schema;
    expect(Object.keys(resolved.properties ?? {}).sort()).toEqual(['block_ids', 'configuration', 'pipeline_name']);
    expect(resolved.required).toEqual(expect.arrayContaining(['pipeline_name', 'block_ids']));
  });

  it('documents the seed responses', () => {
    const created = doc.paths['/dagster/pipelines']!.post!.responses;
    expect(Object.keys(created)).toEqual(expect.arrayContaining(['201', '400', '404', '409']));
    expect(Object.keys(doc.paths['/dagster/pipelines/{pipeline_id}/deploy']!.post!.responses)).toEqual(expect.arrayContaining(['202', '400', '404', '501']));
    expect(Object.keys(doc.paths['/dagster/compile']!.post!.responses)).toEqual(expect.arrayContaining(['202', '400']));
  });

  it('names this service as its server, relative, so /docs sends "Test Request" wherever the service listens', () => {
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('describes /mcp: POST, GET and DELETE of Streamable HTTP, linking the specification', () => {
    const mcp = doc.paths['/mcp']!;
    expect(Object.keys(mcp).filter((k) => METHODS.includes(k)).sort()).toEqual(['delete', 'get', 'post']);
    expect(mcp.post!.description).toMatch(/Streamable HTTP[\s\S]*https:\/\/modelcontextprotocol\.io\/specification\//);
    expect(mcp.post!.description).toMatch(/Bearer/);
    expect(Object.keys(mcp.post!.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
  });

  it("deploys its examples to an environment the default configuration has", () => {
    const config = loadConfig({});
    const environments = loadEnvironments({ dataDir: config.DATA_DIR, defaultGraphqlUrl: '' });
    const deploy = doc.paths['/dagster/pipelines/{pipeline_id}/deploy']!.post!.requestBody!.content['application/json']!;
    const example = deploy.example ?? (deploy.schema.properties!.environment as { example: string }).example;
    expect(environments.has(example.environment ?? example)).toBe(true);
    const create = doc.paths['/dagster/pipelines']!.post!.requestBody!.content['application/json']!.schema;
    const resolved = create.$ref ? doc.components!.schemas![create.$ref.split('/').pop()!]! : create;
    expect(environments.has((resolved.properties!.configuration as { example: { environment: string } }).example.environment)).toBe(true);
  });

  it('has request examples a fresh service accepts as they stand', async () => {
    let sent = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (path.includes('{') || path === '/mcp') continue; // ids a fresh service does not have; /mcp is for MCP clients
      for (const [method, op] of Object.entries(item)) {
        const example = op.requestBody?.content['application/json']?.example;
        if (example === undefined) continue;
        const res = await t.call(method.toUpperCase(), path, example);
        expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(400);
        if (path === '/v1/pipelines/validate') expect(res.body.valid, JSON.stringify(res.body)).toBe(true);
        sent++;
      }
    }
    expect(sent).toBeGreaterThanOrEqual(3);
  });
});
