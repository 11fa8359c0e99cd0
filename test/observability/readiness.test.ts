import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movedBy, parseMetrics } from '../support/metrics-text.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

/** A GraphQL endpoint that answers Dagster's version query, or (hanging) accepts and never answers. */
async function graphqlServer(behaviour: 'answer' | 'hang'): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (behaviour === 'hang') return;
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const answers = /\bversion\b/.test(JSON.parse(body).query);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers ? { data: { version: '1.12.0' } } : { errors: [{ message: 'not in this stand-in' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server };
}

/** A port nothing listens on (taken, then let go). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}

describe('GET /health/ready (readiness, apart from GET /health, liveness)', () => {
  let answering: { url: string; server: Server };
  let hanging: { url: string; server: Server };
  beforeAll(async () => {
    answering = await graphqlServer('answer');
    hanging = await graphqlServer('hang');
  });
  afterAll(() => {
    answering.server.close();
    hanging.server.closeAllConnections();
    hanging.server.close();
  });

  it('is ready when the store, the KV and every Dagster answer; an environment without one is not applicable', async () => {
    const t = await createTestApp('pglite', { environments: [writeOnlyEnvironment('development'), writeOnlyEnvironment('staging', { graphqlUrl: answering.url })] });
    try {
      const res = await t.call('GET', '/health/ready');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ready: true, shutting_down: false, store: { status: 'ok' }, kv: { status: 'ok' }, dagster: { development: { status: 'not_applicable' }, staging: { status: 'ok' } } });
    } finally {
      await t.close();
    }
  });

  it("answers 503 naming each environment whose Dagster does not answer (a closed port, one that never answers) while liveness stays 200", async () => {
    const t = await createTestApp('pglite', {
      readinessTimeoutMs: 300,
      environments: [writeOnlyEnvironment('staging', { graphqlUrl: answering.url }), writeOnlyEnvironment('closed', { graphqlUrl: await closedPortUrl() }), writeOnlyEnvironment('silent', { graphqlUrl: hanging.url })],
    });
    try {
      const res = await t.call('GET', '/health/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ ready: false, store: { status: 'ok' }, kv: { status: 'ok' } });
      expect(res.body.dagster).toEqual({ staging: { status: 'ok' }, closed: { status: 'failed', code: 'unavailable:dagster' }, silent: { status: 'failed', code: expect.stringMatching(/^unavailable:/) } });
      // No address reaches an unauthenticated caller; the log names the part and why.
      expect(JSON.stringify(res.body)).not.toContain('127.0.0.1');
      expect(t.logs.filter((l) => l.msg === 'readiness: a part does not answer').map((l) => l.part).sort()).toEqual(['dagster closed', 'dagster silent']);
      expect((await t.call('GET', '/health')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('answers 503 naming the store when it does not answer', async () => {
    const t = await createTestApp('pglite');
    await t.db.close();
    const res = await t.call('GET', '/health/ready');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ ready: false, store: { status: 'failed', code: expect.any(String) }, kv: { status: 'ok' } });
    await t.services.worker.stop();
  });

  it('is not ready once a shutdown began, whatever the parts say', async () => {
    const t = await createTestApp('pglite');
    try {
      t.services.domain.readiness.markShuttingDown();
      const res = await t.call('GET', '/health/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ ready: false, shutting_down: true, store: { status: 'ok' } });
    } finally {
      await t.close();
    }
  });

  it("times each Dagster GraphQL request in the latency histogram, by operation and outcome", async () => {
    const t = await createTestApp('pglite', { metricsToken: 'a-metrics-token-of-some-length', environments: [writeOnlyEnvironment('staging', { graphqlUrl: answering.url })] });
    const read = async () => parseMetrics(await (await t.app.request('/metrics', { headers: { authorization: 'Bearer a-metrics-token-of-some-length' } })).text());
    try {
      const before = await read();
      const client = t.services.connections.get('staging')!.client!;
      await client.request('query Version { version }');
      await client.request('query Version { version }');
      await expect(client.request('query Nothing { nothing }')).rejects.toThrow(/not in this stand-in/);
      const moved = movedBy(before, await read(), 'constellation_dagster_graphql_duration_seconds_count');
      expect(moved).toMatchObject({
        'constellation_dagster_graphql_duration_seconds_count{operation="Version",outcome="ok"}': 2,
        'constellation_dagster_graphql_duration_seconds_count{operation="Nothing",outcome="error"}': 1,
      });
    } finally {
      await t.close();
    }
  });
});
