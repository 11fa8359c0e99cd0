import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { smallSpec, storeCounts } from './hostile.ts';

// Until authentication exists every request acts as the one local principal, so nothing from
// another origin may act: a foreign Host (DNS rebinding) or Origin is refused on every route, and
// a write that does not say JSON (what a page may send cross-origin without a preflight) too.

const SPEC = smallSpec('door orders');

describe('the door', () => {
  let t: TestApp;
  let id: string;
  beforeAll(async () => {
    t = await createTestApp('pglite');
    const created = await t.call('POST', '/v1/pipelines', SPEC);
    expect(created.status).toBe(201);
    id = created.body.id;
  });
  afterAll(() => t.close());

  /** A request as a browser sends it, every header as given (app.request keeps Host). */
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    t.app.request(`http://127.0.0.1:8000${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });

  it('a deploy from a foreign Host and Origin → 403 forbidden:host, nothing deployed', async () => {
    const before = await storeCounts(t.db);
    const res = await send('POST', `/v1/pipelines/${id}/deployments`, { host: 'attacker.example:8000', origin: 'http://attacker.example:8000', 'content-type': 'application/json' }, '{"environment":"development"}');
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body).toMatchObject({ error: { code: 'forbidden:host', message: expect.stringContaining('attacker.example'), hint: expect.stringContaining('ALLOWED_HOSTS') }, request_id: expect.any(String) });
    expect(await storeCounts(t.db)).toEqual(before);
  });

  it('our Host with a foreign Origin → 403 forbidden:origin, on reads as well as writes', async () => {
    for (const [method, path, body] of [['POST', `/v1/pipelines/${id}/deployments`, '{"environment":"development"}'], ['GET', '/v1/pipelines', undefined], ['DELETE', `/v1/pipelines/${id}`, undefined]] as const) {
      const res = await send(method, path, { host: '127.0.0.1:8000', origin: 'http://attacker.example', 'content-type': 'application/json' }, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect((await res.json()).error.code).toBe('forbidden:origin');
    }
    // A name that merely starts with ours is not ours.
    const sneaky = await send('GET', '/v1/pipelines', { host: '127.0.0.1.attacker.example' });
    expect(sneaky.status).toBe(403);
    expect((await t.call('GET', `/v1/pipelines/${id}`)).status).toBe(200);
  });

  it('our own names, with or without a port and an Origin, pass', async () => {
    for (const headers of [{ host: 'localhost:8000' }, { host: '127.0.0.1' }, { host: '[::1]:8000' }, { host: '127.0.0.1:8000', origin: 'http://localhost:8000' }] as Array<Record<string, string>>) {
      const res = await send('GET', '/health', headers);
      expect(res.status, JSON.stringify(headers)).toBe(200);
    }
  });

  it('the allowed names come from the deps (ALLOWED_HOSTS)', async () => {
    const app = createApp({ domain: t.services.domain, logger: createLogger('silent'), maxBodyBytes: 1024 * 1024, allowedHosts: ['agent.internal'] });
    expect((await app.request('http://agent.internal/health')).status).toBe(200);
    const local = await app.request('http://localhost/health');
    expect(local.status).toBe(403);
    expect((await local.json()).error.code).toBe('forbidden:host');
  });

  it('a POST with no body and no content type (a no-cors fetch) → 415, nothing deployed', async () => {
    const before = await storeCounts(t.db);
    const bare = await send('POST', `/v1/pipelines/${id}/deployments`, {});
    expect(bare.status).toBe(415);
    expect((await bare.json()).error).toMatchObject({ code: 'unsupported_media_type', hint: expect.stringContaining('application/json') });
    // A simple form or text body is refused the same way, on every write method.
    for (const [method, type] of [['POST', 'text/plain'], ['PUT', 'application/x-www-form-urlencoded'], ['PATCH', 'multipart/form-data; boundary=x']] as const) {
      const res = await send(method, `/v1/pipelines/${id}`, { 'content-type': type }, '{"environment":"development"}');
      expect(res.status, `${method} ${type}`).toBe(415);
    }
    for (const path of [`/v1/pipelines/${id}/compile`, '/v1/chat/some-chat/stop', `/dagster/pipelines/${id}/deploy/`]) {
      expect((await send('POST', path, {})).status, path).toBe(415);
    }
    expect(await storeCounts(t.db)).toEqual(before);
  });

  it('a POST that says JSON needs no body where the route takes none; DELETE needs neither', async () => {
    const compile = await send('POST', `/v1/pipelines/${id}/compile`, { 'content-type': 'application/json' });
    expect(compile.status).not.toBe(415);
    const stop = await send('POST', '/v1/chat/some-chat/stop', { 'content-type': 'application/json' });
    expect(stop.status).not.toBe(415);
    const removed = await send('DELETE', `/v1/pipelines/${id}`, {});
    expect(removed.status).toBe(200);
  });
});
