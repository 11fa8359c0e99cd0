import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/auth/api-keys.ts';
import { as, createTestApp, type TestApp } from '../support/test-app.ts';
import { smallSpec } from '../routes/hostile.ts';

// Who a request is: API keys (stored only as hashes) in both modes, the local user only in local
// mode and only without a credential, and a 401 that says what to send.

describe('authentication: AUTH_MODE=required', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite', { authMode: 'required' });
  });
  afterAll(() => t.close());

  it('without a credential: 401 with WWW-Authenticate, on routes and /mcp; /health and /openapi.json stay public', async () => {
    for (const [method, path] of [['GET', '/v1/pipelines'], ['GET', '/v1/block-types'], ['POST', '/v1/pipelines'], ['POST', '/mcp'], ['POST', '/v1/chat']] as const) {
      const res = await t.call(method, path, method === 'POST' ? {} : undefined);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.body.error.hint).toContain('npm run key -- create');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    expect((await t.call('GET', '/health')).status).toBe(200);
    expect((await t.call('GET', '/openapi.json')).status).toBe(200);
  });

  it('a key issued for a new org and user gets in as that user; only its hash is stored', async () => {
    const issued = await t.issueKey({ org: 'acme', user: 'ada' });
    expect(issued.key).toMatch(/^cak_[\w-]{43}$/);
    const created = await t.call('POST', '/v1/pipelines', smallSpec('acme orders'), as(issued.key));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const [row] = await t.db.query<{ org_id: string; owner_id: string }>(`SELECT org_id, owner_id FROM pipelines WHERE id = $1`, [created.body.id]);
    expect(row).toEqual({ org_id: issued.orgId, owner_id: issued.userId });
    const stored = await t.db.query<{ key_hash: string; prefix: string }>(`SELECT key_hash, prefix FROM api_keys WHERE user_id = $1`, [issued.userId]);
    expect(stored).toEqual([{ key_hash: hashKey(issued.key), prefix: issued.key.slice(0, 12) }]);
    const dump = JSON.stringify(await t.db.query(`SELECT * FROM api_keys`));
    expect(dump).not.toContain(issued.key);
  });

  it('a wrong, malformed or revoked key → 401, never another user', async () => {
    const issued = await t.issueKey({ org: 'acme', user: 'bob' });
    for (const authorization of [`Bearer ${issued.key}x`, `Basic ${issued.key}`, 'Bearer', `Bearer cak_${'A'.repeat(43)}`]) {
      const res = await t.call('GET', '/v1/pipelines', undefined, { authorization });
      expect(res.status, authorization).toBe(401);
    }
    const keys = await t.services.keys.list(issued.orgId);
    await t.services.keys.revoke(issued.orgId, keys.find((k) => k.user_id === issued.userId)!.id);
    expect((await t.call('GET', '/v1/pipelines', undefined, as(issued.key))).status).toBe(401);
  });

  it('rotating a key: the new one works and the old one stops', async () => {
    const issued = await t.issueKey({ org: 'rotators', user: 'cy' });
    const [info] = await t.services.keys.list(issued.orgId);
    const next = await t.services.keys.rotate(issued.orgId, info!.id);
    expect((await t.call('GET', '/v1/pipelines', undefined, as(issued.key))).status).toBe(401);
    expect((await t.call('GET', '/v1/pipelines', undefined, as(next.key))).status).toBe(200);
    // Another org cannot rotate it.
    const other = await t.issueKey({ org: 'elsewhere', user: 'eve' });
    await expect(t.services.keys.rotate(other.orgId, next.id)).rejects.toMatchObject({ code: 'not_found:api_key' });
  });
});

describe('authentication: AUTH_MODE=local', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite');
  });
  afterAll(() => t.close());

  it('no credential acts as the local user; a key acts as its own user; a bad key is a 401, not the local user', async () => {
    expect((await t.call('GET', '/v1/pipelines')).status).toBe(200);
    const issued = await t.issueKey({ org: 'visitors', user: 'vi' });
    const created = await t.call('POST', '/v1/pipelines', smallSpec('visitor pipeline'), as(issued.key));
    expect(created.status).toBe(201);
    // Not the local user's: the local user does not see it.
    expect((await t.call('GET', `/v1/pipelines/${created.body.id}`)).status).toBe(404);
    expect((await t.call('GET', '/v1/pipelines', undefined, { authorization: 'Bearer cak_nope' })).status).toBe(401);
  });
});
