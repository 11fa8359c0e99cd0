import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webAssetsFromDisk } from '../../src/web-assets.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('the web page and its files', () => {
  let t: TestApp;
  let missing: TestApp;
  beforeAll(async () => {
    const dist = mkdtempSync(join(tmpdir(), 'web-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><script type="module" src="/assets/app-ABC.js"></script>');
    writeFileSync(join(dist, 'assets', 'app-ABC.js'), 'console.log(1)');
    writeFileSync(join(dist, 'assets', 'big-DEF.js'), `console.log(${JSON.stringify('x'.repeat(20_000))})`);
    writeFileSync(join(dist, '.sources-hash'), 'secret-ish');
    // Authentication on: the page and its files are public, nothing else is.
    t = await createTestApp('pglite', { authMode: 'required', web: webAssetsFromDisk(dist) });
    missing = await createTestApp('pglite', { web: webAssetsFromDisk(join(dist, 'nowhere')) });
  });
  afterAll(async () => {
    await t?.close();
    await missing?.close();
  });

  it('serves the page at / without a credential, with a policy that allows only its own scripts', async () => {
    const res = await t.app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('/assets/app-ABC.js');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:/);
  });

  it('serves hashed assets as immutable JavaScript, and nothing outside assets/', async () => {
    const res = await t.app.request('/assets/app-ABC.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(await res.text()).toBe('console.log(1)');
    // A bundle worth compressing goes gzipped to a browser that takes it.
    const big = await t.app.request('/assets/big-DEF.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(big.headers.get('content-encoding')).toBe('gzip');
    expect(await new Response(big.body!.pipeThrough(new DecompressionStream('gzip'))).text()).toBe(`console.log(${JSON.stringify('x'.repeat(20_000))})`);
    for (const path of ['/assets/..%2Findex.html', '/assets/.sources-hash', '/assets/nope.js', '/assets/app-ABC.exe']) {
      expect((await t.app.request(path)).status, path).toBe(404);
    }
  });

  it('still asks for a credential everywhere else', async () => {
    expect((await t.app.request('/v1/pipelines')).status).toBe(401);
  });

  it('says how to build the page when it was never built', async () => {
    const res = await missing.app.request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build:web');
  });
});
