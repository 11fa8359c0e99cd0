import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { INTERNAL_MESSAGE } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { STORE_KINDS } from '../support/databases.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Every bad request gets a clear 4xx: a stable code, a message, a hint, and never a stack trace.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BLOCK = '7f3c1a52-9d4e-4b8a-8c21-5e6f7a8b9c0d';

/** The shape every error body has, and what it must never contain. */
function expectCleanError(res: { body: any; headers: Headers }, code: string) {
  expect(res.body.error).toMatchObject({ code, message: expect.any(String), hint: expect.any(String) });
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(res.body.error.hint.length).toBeGreaterThan(0);
  expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|stack/i);
}

describe('bad input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite');
  });
  afterAll(() => t.close());

  it('malformed JSON → 400 invalid:json', async () => {
    const res = await t.call('POST', '/dagster/pipelines/', '{"pipeline_name": "x", ');
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid:json');
  });

  it('a field of the wrong type → 400 invalid:request at its path', async () => {
    const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 5, block_ids: [BLOCK], configuration: {} });
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid:request');
    expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'wrong_type', path: '/pipeline_name', hint: expect.stringContaining('string') })]);
    expect(res.body.error.message).toContain('/pipeline_name');
  });

  it('several problems at once are all reported', async () => {
    const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: '', block_ids: ['not-a-uuid'], configuration: [] });
    expect(res.status).toBe(400);
    const paths = res.body.error.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['/block_ids/0', '/configuration', '/pipeline_name']);
    for (const issue of res.body.error.issues) expect(issue.hint).toEqual(expect.any(String));
  });

  it('a missing field → issue code missing_field', async () => {
    const res = await t.call('POST', '/dagster/pipelines/', { block_ids: [BLOCK] });
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid:request');
    expect(res.body.error.issues).toEqual([expect.objectContaining({ code: 'missing_field', path: '/pipeline_name', message: expect.stringContaining('required') })]);
  });

  it('unknown fields → 400 naming them', async () => {
    const res = await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'x', block_ids: [BLOCK], configuration: {}, colour: 'red', sizes: [1] });
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid:request');
    expect(res.body.error.issues).toEqual([
      expect.objectContaining({ code: 'unknown_field', path: '/colour', message: 'unknown field "colour"' }),
      expect.objectContaining({ code: 'unknown_field', path: '/sizes', message: 'unknown field "sizes"' }),
    ]);
  });

  it('a body that is not an object → 400', async () => {
    for (const body of [[], 'null', '"pipeline"', 42]) {
      const res = await t.call('POST', '/v1/blocks', typeof body === 'string' ? body : JSON.stringify(body));
      expect(res.status, String(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid:request');
    }
  });

  it('a POST with no body → 400, not a crash', async () => {
    const res = await t.call('POST', '/dagster/compile/');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toMatch(/^invalid:/);
  });

  it('a non-JSON body → 415 naming what to send', async () => {
    const res = await t.call('POST', '/dagster/pipelines/', 'pipeline_name=x', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expectCleanError(res, 'unsupported_media_type');
    expect(res.body.error.message).toContain('text/plain');
    expect(res.body.error.hint).toContain('application/json');

    const form = await t.call('POST', '/v1/blocks', 'name=x', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '6' });
    expect(form.status).toBe(415);

    // A body with no content type at all (bytes, no headers) is refused the same way.
    const bare = await t.app.request('/dagster/compile/', { method: 'POST', body: new TextEncoder().encode('{"repo_url": "r", "branch": "b"}') });
    expect(bare.status).toBe(415);
    expect((await bare.json()).error).toMatchObject({ code: 'unsupported_media_type', hint: expect.stringContaining('application/json') });

    // JSON with a charset, or a +json type, is JSON.
    // (It reaches the handler, whose check of repo_url refuses "r".)
    const charset = await t.call('POST', '/dagster/compile/', { repo_url: 'r', branch: 'b' }, { 'content-type': 'application/json; charset=utf-8' });
    expect(charset.body.error.code).toBe('invalid:repo_url');
  });

  it('an unknown route → 404 not_found:route', async () => {
    for (const [method, path] of [['GET', '/v2/nothing'], ['PUT', '/dagster/compile'], ['GET', '/dagster/pipelines/x/y/z']] as const) {
      const res = await t.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expectCleanError(res, 'not_found:route');
      expect(res.body.error.hint).toContain('/openapi.json');
    }
  });

  it('a bad query parameter → 400 at /query/<name>', async () => {
    const res = await t.call('GET', '/v1/block-types?limit=0');
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid:request');
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/query/limit', hint: expect.any(String) })]);

    const category = await t.call('GET', '/v1/block-types?category=teleport');
    expect(category.status).toBe(400);
    expect(category.body.error.issues).toEqual([expect.objectContaining({ path: '/query/category', hint: expect.stringContaining('"source"') })]);
  });

  it('a malformed path id → 400 at /param/<name>', async () => {
    const res = await t.call('DELETE', '/dagster/pipelines/123/');
    expect(res.status).toBe(400);
    expectCleanError(res, 'invalid:request');
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path: '/param/pipeline_id' })]);
  });

  describe('request ids', () => {
    it('every response carries an X-Request-Id, a fresh one per request', async () => {
      const responses = [await t.call('GET', '/health'), await t.call('GET', '/health'), await t.call('GET', '/nope'), await t.call('POST', '/v1/blocks', '{')];
      const ids = responses.map((r) => r.headers.get('x-request-id'));
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('echoes a given X-Request-Id, in the header, the error body and the log lines', async () => {
      const res = await t.call('GET', '/v1/blocks/not-a-uuid', undefined, { 'X-Request-Id': 'trace-abc.123' });
      expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
      expect(res.body.request_id).toBe('trace-abc.123');
      const lines = t.logs.filter((l) => l.request_id === 'trace-abc.123');
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', method: 'GET', path: '/v1/blocks/not-a-uuid', status: 400 }));
    });

    it('replaces an X-Request-Id that is not a sane token', async () => {
      for (const given of ['has spaces in it', 'x'.repeat(101), 'line\u0001break']) {
        const res = await t.app.request('/health', { headers: { 'x-request-id': given } });
        expect(res.headers.get('x-request-id')).toMatch(UUID);
      }
    });

    it('every log line of a request carries its request_id', async () => {
      const before = t.logs.length;
      await t.call('POST', '/dagster/pipelines/', { pipeline_name: 'x', block_ids: [BLOCK], configuration: {} }, { 'x-request-id': 'req-lines' });
      const lines = t.logs.slice(before);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.request_id).toBe('req-lines');
    });
  });
});

describe('body size limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite', { maxBodyBytes: 2048 });
  });
  afterAll(() => t.close());

  it('a body over the limit → 413 payload_too_large', async () => {
    const body = { pipeline_name: 'x'.repeat(4000), block_ids: [BLOCK], configuration: {} };
    const res = await t.call('POST', '/dagster/pipelines/', body);
    expect(res.status).toBe(413);
    expectCleanError(res, 'payload_too_large');
    expect(res.body.error.message).toContain('2048');

    // Also when the client declares its length up front.
    const declared = JSON.stringify(body);
    const withLength = await t.call('POST', '/dagster/pipelines/', declared, { 'content-length': String(Buffer.byteLength(declared)) });
    expect(withLength.status).toBe(413);
  });

  it('over a real socket: a declared length or a chunked body over the limit → 413, one under it goes through', async () => {
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dagster/pipelines/`;
      const big = JSON.stringify({ pipeline_name: 'x'.repeat(4000), block_ids: [BLOCK], configuration: {} });
      const post = (body: BodyInit, extra: RequestInit = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ...extra });
      const declared = await post(big);
      expect(declared.status).toBe(413);
      expect((await declared.json()).error.code).toBe('payload_too_large');
      // No Content-Length: the body is counted as it arrives.
      const chunked = await post(new Blob([big]).stream(), { duplex: 'half' } as RequestInit);
      expect(chunked.status).toBe(413);
      expect((await chunked.json()).error.code).toBe('payload_too_large');
      const small = await post(JSON.stringify({ pipeline_name: 'small', block_ids: [BLOCK], configuration: {} }));
      expect(small.status).not.toBe(413);
      expect((await small.json()).error?.code).not.toBe('payload_too_large');
    } finally {
      server.close();
    }
  });

  it('a body under the limit goes through', async () => {
    // Read and handed to the compile, whose check refuses http:// (before any network).
    const res = await t.call('POST', '/dagster/compile/', { repo_url: 'http://example.com/r.git', branch: 'main' });
    expect(res.body.error.code).toBe('invalid:repo_url');
  });
});

describe('unexpected errors', () => {
  const fail = (message: string) => () => {
    throw new Error(message);
  };

  it('a handler that throws → 500 internal, without the message or a stack', async () => {
    const t = await createTestApp('pglite');
    try {
      const logs: Array<Record<string, unknown>> = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
          done();
        },
      });
      const secret = 'connection to 10.0.0.7 refused for user admin';
      const domain = { ...t.services.domain, status: Object.assign(Object.create(t.services.domain.status), { list: fail(secret) }) };
      const app = createApp({ domain, logger: createLogger('debug', sink), maxBodyBytes: 1024 * 1024 });

      const res = await app.request('/dagster/pipelines/', { headers: { 'x-request-id': 'boom-1' } });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain(secret);
      expect(text).not.toMatch(/\n\s+at |\.ts:\d+|stack/i);
      const body = JSON.parse(text);
      expect(body).toEqual({ error: { code: 'internal', message: INTERNAL_MESSAGE }, request_id: 'boom-1' });

      // The detail goes to the log, under the request id, for whoever runs the service.
      const logged = logs.find((l) => l.request_id === 'boom-1' && l.level === 50);
      expect(logged).toBeDefined();
      expect(JSON.stringify(logged)).toContain(secret);
    } finally {
      await t.close();
    }
  });

  describe.each(STORE_KINDS)('with the store gone (%s)', (kind) => {
    let t: TestApp;
    afterEach(async () => {
      // Closed in the test; a second close may refuse, which is fine here.
      await t.close().catch(() => undefined);
    });

    it('a route that queries a closed store → 500 internal; /health says unavailable', async () => {
      t = await createTestApp(kind);
      await t.db.close();
      const res = await t.call('GET', '/v1/blocks');
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('internal');
      expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message']);
      expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |closed|pool|pglite|stack/i);

      const health = await t.call('GET', '/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'unavailable', store: kind });
    });
  });
});
