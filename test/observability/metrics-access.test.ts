import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { createLogger } from '../../src/logger.ts';
import { as, createTestApp, type TestApp } from '../support/test-app.ts';

const TOKEN = 'a-metrics-token-of-some-length';

/** The test app's domain served on a real socket at `host` (the port the system picks). */
async function listen(t: TestApp, host: string, reachedAs = host): Promise<{ server: ServerType; port: number }> {
  const app = createApp({ domain: t.services.domain, logger: createLogger('silent'), maxBodyBytes: 1 << 20, auth: t.auth, allowedHosts: ['localhost', '127.0.0.1', reachedAs] });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: host }, (info: AddressInfo) => resolve({ server, port: info.port }));
  });
}
const close = (server: ServerType) => new Promise((resolve) => server.close(resolve));

/** An IPv4 address of this machine beyond loopback, if it has one. */
const outsideAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('GET /metrics access', () => {
  describe('with METRICS_TOKEN set', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp('pglite', { metricsToken: TOKEN });
    });
    afterAll(() => t.close());

    it('answers the bearer of the token, in the Prometheus text format', async () => {
      const res = await t.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^# HELP constellation_http_requests_total /m);
    });

    it('refuses no token, a wrong one, an API key and a token without "Bearer" (401 naming METRICS_TOKEN)', async () => {
      const { key } = await t.issueKey({ org: 'acme', user: 'ops', role: 'admin' });
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Bearer ${TOKEN.slice(1)}` }, as(key), { authorization: TOKEN }]) {
        const res = await t.app.request('/metrics', { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
        const body = (await res.json()) as { error: { code: string; hint: string } };
        expect(body.error).toMatchObject({ code: 'unauthorized:metrics', hint: expect.stringContaining('METRICS_TOKEN') });
      }
    });
  });

  describe('without METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp('pglite');
    });
    afterAll(() => t.close());

    it('answers a request that came to a loopback listener', async () => {
      const { server, port } = await listen(t, '127.0.0.1');
      try {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('constellation_mcp_sessions_open 0');
      } finally {
        await close(server);
      }
    });

    it('refuses one with no socket to tell where it came from (as on Workers): 403 naming METRICS_TOKEN', async () => {
      const res = await t.call('GET', '/metrics');
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'forbidden:metrics', message: expect.stringContaining('METRICS_TOKEN'), hint: expect.stringContaining('METRICS_TOKEN') });
    });

    it.skipIf(!outsideAddress)('refuses one that came to a listener beyond loopback, even from this machine', async () => {
      const { server, port } = await listen(t, '0.0.0.0', outsideAddress);
      try {
        const outside = await fetch(`http://${outsideAddress}:${port}/metrics`);
        expect(outside.status).toBe(403);
        expect(((await outside.json()) as { error: { code: string } }).error.code).toBe('forbidden:metrics');
        // The same listener, reached through loopback, answers: the address decides, not the port.
        expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      } finally {
        await close(server);
      }
    });
  });
});
