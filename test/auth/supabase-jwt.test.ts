import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupabaseJwtVerifier } from '../../src/auth/supabase-jwt.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Supabase Auth JWTs through the real app: asymmetric ones against a JWKS endpoint the test
// serves (as Supabase does at /auth/v1/.well-known/jwks.json), legacy HS256 ones with the secret.

const SECRET = 'super-secret-jwt-token-with-at-least-32-characters';
const ORG_ID = '0b7d6f2e-5a44-4c1e-9d7e-3f2a1b0c9d8e';

interface Signer {
  alg: 'ES256' | 'RS256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signer(alg: 'ES256' | 'RS256', kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}) {
  return { sub: 'user-ada', aud: 'authenticated', email: 'ada@example.com', app_metadata: { org_id: ORG_ID, role: 'deployer' }, exp: now() + 600, iat: now(), ...overrides };
}

const sign = (s: Signer, payload: Record<string, unknown>) => new SignJWT(payload).setProtectedHeader({ alg: s.alg, kid: s.kid, typ: 'JWT' }).sign(s.privateKey);
const signHs = (payload: Record<string, unknown>, secret = SECRET) => new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Supabase Auth JWTs', () => {
  let es: Signer;
  let rs: Signer;
  let stranger: Signer;
  let jwks: Server;
  const asked: string[] = [];
  let withSecret: TestApp;
  let noSecret: TestApp;

  beforeAll(async () => {
    [es, rs, stranger] = await Promise.all([signer('ES256', 'es-1'), signer('RS256', 'rs-1'), signer('ES256', 'es-1')]);
    jwks = createServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/auth/v1/.well-known/jwks.json') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [es.publicJwk, rs.publicJwk] }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      }
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    const base = { url, orgClaim: 'app_metadata.org_id', roleClaim: 'app_metadata.role' };
    [withSecret, noSecret] = await Promise.all([
      createTestApp('pglite', { authMode: 'required', jwt: (db) => new SupabaseJwtVerifier({ db, ...base, secret: SECRET }) }),
      createTestApp('pglite', { authMode: 'required', jwt: (db) => new SupabaseJwtVerifier({ db, ...base }) }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withSecret?.close(), noSecret?.close()]);
    await new Promise((r) => jwks.close(r));
  });

  it('a good ES256 token: the user and org are made on first sight, with the role from the claim', async () => {
    const res = await withSecret.call('GET', '/v1/me', undefined, bearer(await sign(es, claims())));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ org_id: ORG_ID, user_name: 'ada@example.com', role: 'deployer', kind: 'person', key_id: null });
    const [user] = await withSecret.db.query<{ external_id: string; email: string }>(`SELECT external_id, email FROM users WHERE id = $1`, [res.body.user_id]);
    expect(user).toEqual({ external_id: 'user-ada', email: 'ada@example.com' });
    // The same subject again is the same user.
    const again = await withSecret.call('GET', '/v1/me', undefined, bearer(await sign(es, claims())));
    expect(again.body.user_id).toBe(res.body.user_id);
    // Only the JWKS was fetched from Supabase, never the user endpoint.
    expect(new Set(asked)).toEqual(new Set(['/auth/v1/.well-known/jwks.json']));
  });

  it('a good RS256 token; an org named by name; no role claim → viewer', async () => {
    const res = await withSecret.call('GET', '/v1/me', undefined, bearer(await sign(rs, claims({ sub: 'user-rs', email: undefined, app_metadata: { org_id: 'rs-org' } }))));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ org_name: 'rs-org', user_name: 'user-rs', role: 'viewer' });
    const unknownRole = await withSecret.call('GET', '/v1/me', undefined, bearer(await sign(rs, claims({ sub: 'user-rs2', app_metadata: { org_id: 'rs-org', role: 'owner' } }))));
    expect(unknownRole.body).toMatchObject({ org_id: res.body.org_id, role: 'viewer' });
    // A viewer may read but not manage keys.
    expect((await withSecret.call('GET', '/v1/api-keys', undefined, bearer(await sign(rs, claims({ sub: 'user-rs', app_metadata: { org_id: 'rs-org' } }))))).status).toBe(403);
  });

  it('a good HS256 token with the secret configured', async () => {
    const res = await withSecret.call('GET', '/v1/me', undefined, bearer(await signHs(claims({ sub: 'user-hs', app_metadata: { org_id: ORG_ID, role: 'admin' } }))));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ org_id: ORG_ID, role: 'admin' });
  });

  it('refused with a 401: expired, wrong key, tampered, wrong audience, wrong secret, HS256 without a secret', async () => {
    const good = await sign(es, claims());
    const [header, payload, signature] = good.split('.');
    const tampered = [header, Buffer.from(JSON.stringify(claims({ app_metadata: { org_id: ORG_ID, role: 'admin' } }))).toString('base64url'), signature].join('.');
    const cases: Array<[string, TestApp, string]> = [
      ['expired', withSecret, await sign(es, claims({ exp: now() - 60 }))],
      ['signed by a key not in the JWKS (same kid)', withSecret, await sign(stranger, claims())],
      ['a kid the JWKS lacks', withSecret, await sign({ ...stranger, kid: 'es-unknown' }, claims())],
      ['tampered payload', withSecret, tampered],
      ['wrong audience (ES256)', withSecret, await sign(es, claims({ aud: 'anon' }))],
      ['wrong audience (HS256)', withSecret, await signHs(claims({ aud: 'service' }))],
      ['expired HS256', withSecret, await signHs(claims({ exp: now() - 60 }))],
      ['HS256 with another secret', withSecret, await signHs(claims(), 'another-secret-that-is-long-enough-too')],
      ['HS256 when no secret is configured', noSecret, await signHs(claims())],
      ['not a JWT at all', withSecret, 'garbage.token.here'],
    ];
    for (const [what, t, token] of cases) {
      const res = await t.call('GET', '/v1/me', undefined, bearer(token));
      expect(res.status, what).toBe(401);
      expect(res.body.error.code, what).toBe('unauthorized');
    }
    // None of them reached Supabase's user endpoint.
    expect(asked.filter((p) => !p.endsWith('/jwks.json'))).toEqual([]);
  });

  it('a good token without the org claim → 401 naming the claim', async () => {
    const res = await withSecret.call('GET', '/v1/me', undefined, bearer(await sign(es, claims({ app_metadata: {} }))));
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('app_metadata.org_id');
  });
});
