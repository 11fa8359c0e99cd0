import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findScalarBundle } from '../../src/docs/scalar-bundle.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// /docs: Scalar's API reference over /openapi.json, its script served by the service itself
// (never a CDN), public like /openapi.json, under a policy that lets the page load only from here.

const SCALAR = resolve(import.meta.dirname, '../../node_modules/@scalar/api-reference');
const scalarVersion = (JSON.parse(readFileSync(join(SCALAR, 'package.json'), 'utf8')) as { version: string }).version;

describe('GET /docs', () => {
  let t: TestApp;
  let html: string;
  let res: Response;
  beforeAll(async () => {
    // Authentication required: the page and its script are public, as /openapi.json is.
    t = await createTestApp('pglite', { authMode: 'required' });
    res = await t.app.request('/docs');
    html = await res.text();
  });
  afterAll(() => t.close());

  it('answers a page that runs the local script over /openapi.json, without a credential', async () => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain(`<script src="/docs/scalar.js?v=${scalarVersion}"></script>`);
    expect(html).toMatch(/<script id="api-reference" data-url="\/openapi\.json"/);
    // Nothing from another origin: no CDN, no absolute URL at all.
    expect(html).not.toContain('cdn.jsdelivr');
    expect(html).not.toMatch(/https?:\/\//);
    expect((await t.call('GET', '/v1/me')).status).toBe(401);
  });

  it('lets the page run only its own scripts and reach only this service', () => {
    const policy = Object.fromEntries(
      res.headers
        .get('content-security-policy')!
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['connect-src']).toEqual(["'self'"]);
    expect(policy['default-src']).toEqual(["'none'"]);
    expect(policy['frame-ancestors']).toEqual(["'none'"]);
    // Scalar's options turn off what would call Scalar's servers.
    const configuration = JSON.parse(/data-configuration="([^"]*)"/.exec(html)![1]!.replaceAll('&quot;', '"'));
    expect(configuration).toMatchObject({ withDefaultFonts: false, telemetry: false });
  });

  it("serves Scalar's bundle as JavaScript, cached for good under its versioned URL", async () => {
    const src = /<script src="([^"]+)"><\/script>/.exec(html)![1]!;
    const script = await t.app.request(src);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await script.arrayBuffer());
    expect(body.equals(readFileSync(join(SCALAR, 'dist/browser/standalone.js')))).toBe(true);
    // Gzipped for a browser that takes it (a quarter of the bytes), the same script once inflated.
    const zipped = await t.app.request(src, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    const inflated = Buffer.from(await new Response(zipped.body!.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
    expect(inflated.equals(body)).toBe(true);
    // Another version's URL (a page from before an upgrade) gets today's script, not cached.
    const stale = await t.app.request('/docs/scalar.js?v=0.0.1');
    expect(stale.status).toBe(200);
    expect(stale.headers.get('cache-control')).toBe('no-cache');
  });
});

describe('GET /docs without Scalar installed', () => {
  let t: TestApp;
  beforeAll(async () => {
    const notInstalled = findScalarBundle(() => {
      throw new Error("Cannot find package '@scalar/api-reference'");
    });
    t = await createTestApp('pglite', { apiReference: notInstalled });
  });
  afterAll(() => t.close());

  it('answers 503 naming the missing package, for the page and the script', async () => {
    for (const path of ['/docs', '/docs/scalar.js']) {
      const res = await t.call('GET', path);
      expect(res.status, path).toBe(503);
      expect(res.body.error.code).toBe('unavailable:docs');
      expect(res.body.error.message).toContain('@scalar/api-reference');
    }
  });
});
