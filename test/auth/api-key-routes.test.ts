import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTestApp, type TestApp } from '../support/test-app.ts';

// Key management over REST: admins of an org only, their own org's keys only, the key shown once.

describe('/v1/api-keys and /v1/me', () => {
  let t: TestApp;
  let admin: { key: string; orgId: string; userId: string };
  beforeAll(async () => {
    t = await createTestApp('pglite', { authMode: 'required' });
    admin = await t.issueKey({ org: 'keyorg', user: 'root', role: 'admin' });
  });
  afterAll(() => t.close());

  it('GET /v1/me says who the key speaks for', async () => {
    const agent = await t.issueKey({ org: 'keyorg', user: 'bot', role: 'editor', kind: 'agent' });
    const res = await t.call('GET', '/v1/me', undefined, as(agent.key));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user_id: agent.userId, user_name: 'bot', org_id: agent.orgId, org_name: 'keyorg', role: 'editor', kind: 'agent' });
    expect(res.body.key_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await t.call('GET', '/v1/me')).status).toBe(401);
  });

  it('an admin creates, lists, rotates and revokes; the key is shown only when issued', async () => {
    const created = await t.call('POST', '/v1/api-keys', { user_id: admin.userId, kind: 'agent', name: 'ci' }, as(admin.key));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ user_id: admin.userId, kind: 'agent', name: 'ci', role: 'admin', revoked_at: null });
    expect(created.body.key).toMatch(/^cak_/);
    expect((await t.call('GET', '/v1/me', undefined, as(created.body.key))).body.kind).toBe('agent');

    const listed = await t.call('GET', '/v1/api-keys', undefined, as(admin.key));
    expect(listed.status).toBe(200);
    expect(listed.body.api_keys.map((k: { id: string }) => k.id)).toContain(created.body.id);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(created.body.key);
    expect(text).not.toContain('hash');

    const rotated = await t.call('POST', `/v1/api-keys/${created.body.id}/rotate`, {}, as(admin.key));
    expect(rotated.status).toBe(201);
    expect(rotated.body.key).not.toBe(created.body.key);
    expect((await t.call('GET', '/v1/me', undefined, as(created.body.key))).status).toBe(401);

    const revoked = await t.call('DELETE', `/v1/api-keys/${rotated.body.id}`, undefined, as(admin.key));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).not.toBeNull();
    expect((await t.call('GET', '/v1/me', undefined, as(rotated.body.key))).status).toBe(401);
  });

  it('below admin: 403 naming the admin role, for every key route', async () => {
    const deployer = await t.issueKey({ org: 'keyorg', user: 'dee', role: 'deployer' });
    const [someKey] = await t.services.keys.list(admin.orgId);
    const calls = [
      ['POST', '/v1/api-keys', { user_id: deployer.userId, kind: 'person' }],
      ['GET', '/v1/api-keys', undefined],
      ['POST', `/v1/api-keys/${someKey!.id}/rotate`, {}],
      ['DELETE', `/v1/api-keys/${someKey!.id}`, undefined],
    ] as const;
    for (const [method, path, body] of calls) {
      const res = await t.call(method, path, body, as(deployer.key));
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden:role');
      expect(res.body.error.message).toContain('admin');
    }
  });

  it("another org's key or user is as unknown as a made-up id: 404", async () => {
    const other = await t.issueKey({ org: 'otherorg', user: 'olga', role: 'admin' });
    const [otherKey] = await t.services.keys.list(other.orgId);
    for (const id of [otherKey!.id, '00000000-0000-4000-8000-00000000abcd']) {
      expect((await t.call('POST', `/v1/api-keys/${id}/rotate`, {}, as(admin.key))).status).toBe(404);
      const res = await t.call('DELETE', `/v1/api-keys/${id}`, undefined, as(admin.key));
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found:api_key');
    }
    const foreignUser = await t.call('POST', '/v1/api-keys', { user_id: other.userId, kind: 'person' }, as(admin.key));
    expect(foreignUser.status).toBe(404);
    expect((await t.call('GET', '/v1/me', undefined, as(other.key))).status).toBe(200);
  });

  it('a bad body names the field', async () => {
    const res = await t.call('POST', '/v1/api-keys', { user_id: admin.userId, kind: 'robot' }, as(admin.key));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('/kind');
  });
});
