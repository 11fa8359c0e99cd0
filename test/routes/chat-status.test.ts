import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlm } from '../../src/agent/llm.ts';
import { as, createTestApp, type TestApp } from '../support/test-app.ts';

describe('GET /v1/chat/status', () => {
  let off: TestApp;
  let on: TestApp;
  beforeAll(async () => {
    off = await createTestApp('pglite', { authMode: 'required', llm: null });
    // Never asked anything: the status comes from configuration alone.
    on = await createTestApp('pglite', { llm: createLlm({ apiKey: 'test', baseURL: 'http://127.0.0.1:9/v1', model: 'scripted', maxRetries: 0 }) });
  });
  afterAll(async () => {
    await off?.close();
    await on?.close();
  });

  it('says chat is off, and which variables turn it on, without a model endpoint', async () => {
    const { key } = await off.issueKey({ org: 'acme', user: 'ada' });
    const res = await off.call('GET', '/v1/chat/status', undefined, as(key));
    expect(res.status).toBe(200);
    expect(res.body.enabled).toBe(false);
    expect(res.body.hint).toMatch(/OPENAI_API_KEY/);
    expect(res.body.hint).toMatch(/OPENAI_BASE_URL/);
    expect(res.body.hint).toMatch(/OPENAI_MODEL/);
  });

  it('says chat is on with one, and gives no hint', async () => {
    const res = await on.call('GET', '/v1/chat/status');
    expect(res).toMatchObject({ status: 200, body: { enabled: true, hint: null } });
  });

  it('needs a credential like the rest of the API, and is described in the OpenAPI document', async () => {
    expect((await off.app.request('/v1/chat/status')).status).toBe(401);
    const doc = (await on.call('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/chat/status'].get.responses['200']).toBeDefined();
  });
});
