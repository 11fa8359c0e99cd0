import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, createTestApp, type TestApp } from '../support/test-app.ts';

// Keys through the API (/v1/api-keys): an org's admin creates, lists, rotates and revokes its
// keys; a key works until it is rotated or revoked; the key itself is shown once, then only its prefix.

describe('/v1/api-keys', () => {
  let t: TestApp;
  let admin: { key: string; orgId: string; userId: string };
  let helper: { key: string; orgId: string; userId: string };
  beforeAll(async () => {
    t = await createTestApp('pglite', { authMode: 'required' });
    admin = await t.issueKey({ org: 'keys-org', user: 'kim' });
    helper = await t.issueKey({ org: 'keys-org', user: 'hal', role: 'editor' });
  });
  afterAll(() => t.close());

  const works = async (key: string) => (await t.call('GET', '/v1/pipelines', undefined, as(key))).status;

  it('creates a key for a user of the org, shown once, listed by prefix only', async () => {
    const made = await t.call('POST', '/v1/api-keys', { user_id: helper.userId, kind: 'agent', name: 'assistant' }, as(admin.key));
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ user_id: helper.userId, user_name: 'hal', role: 'editor', kind: 'agent', name: 'assistant', key: expect.stringMatching(/^cak_/), revoked_at: null });
    expect(await works(made.body.key)).toBe(200);

    const listed = await t.call('GET', '/v1/api-keys', undefined, as(admin.key));
    expect(listed.status).toBe(200);
    const entry = listed.body.keys.find((k: { id: string }) => k.id === made.body.id);
    expect(entry).toMatchObject({ prefix: made.body.key.slice(0, 12), name: 'assistant' });
    expect(JSON.stringify(listed.body)).not.toContain(made.body.key);
    expect(JSON.stringify(listed.body)).not.toContain(admin.key);
  });

  it('rotating gives a new key and stops the old one; revoking stops a key', async () => {
    const made = (await t.call('POST', '/v1/api-keys', { user_id: helper.userId }, as(admin.key))).body;
    const rotated = await t.call('POST', `/v1/api-keys/${made.id}/rotate`, {}, as(admin.key));
    expect(rotated.status).toBe(201);
    expect(rotated.body.key).not.toBe(made.key);
    expect(await works(made.key)).toBe(401);
    expect(await works(rotated.body.key)).toBe(200);

    const revoked = await t.call('DELETE', `/v1/api-keys/${rotated.body.id}`, undefined, as(admin.key));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    expect(await works(rotated.body.key)).toBe(401);
  });

  it('is for admins only, and a user of another org is not found', async () => {
    const refused = await t.call('POST', '/v1/api-keys', { user_id: helper.userId }, as(helper.key));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('admin');
    const stranger = await t.issueKey({ org: 'keys-elsewhere', user: 'sam' });
    const missing = await t.call('POST', '/v1/api-keys', { user_id: stranger.userId }, as(admin.key));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found:user');
  });
});
