import { createRoute, z } from '@hono/zod-openapi';
import type { ApiKeyInfo } from '../auth/api-keys.ts';
import type { AppDomain } from '../app-domain.ts';
import { createRouter, errorResponses, errorSchema, jsonBody, jsonResponse, uuidParam } from './router.ts';
import { iso } from './serialize.ts';

const keyInfo = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    user_name: z.string(),
    role: z.enum(['viewer', 'editor', 'deployer', 'admin']),
    kind: z.enum(['person', 'agent']),
    name: z.string(),
    prefix: z.string().openapi({ description: "The key's first characters, to tell keys apart" }),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');
const issued = keyInfo.extend({ key: z.string().openapi({ description: 'The key itself: shown this once, stored only as a hash' }) }).openapi('IssuedApiKey');
const forbidden = { 403: jsonResponse(errorSchema, 'Not an admin of this org') };

const list = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  summary: "Your org's API keys (never the keys themselves)",
  responses: { 200: jsonResponse(z.object({ keys: z.array(keyInfo) }), 'Keys'), ...forbidden, ...errorResponses },
});

const create = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  summary: 'A new key for a user of your org, for a person or an agent',
  request: jsonBody(
    z.object({ user_id: z.uuid(), kind: z.enum(['person', 'agent']).default('person'), name: z.string().min(1).max(200).optional() }).strict(),
    'Whose key, and for what',
  ),
  responses: { 201: jsonResponse(issued, 'The key, shown once'), ...forbidden, ...errorResponses },
});

const rotate = createRoute({
  method: 'post',
  path: '/v1/api-keys/{id}/rotate',
  summary: 'A new key in place of this one, which stops working at once',
  request: { params: uuidParam('id') },
  responses: { 201: jsonResponse(issued, 'The new key, shown once'), ...forbidden, ...errorResponses },
});

const revoke = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  summary: 'Revoke a key',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(keyInfo, 'The revoked key'), ...forbidden, ...errorResponses },
});

const shown = (k: ApiKeyInfo) => ({ ...k, created_at: iso(k.created_at), last_used_at: k.last_used_at && iso(k.last_used_at), revoked_at: k.revoked_at && iso(k.revoked_at) });

/** Key management for an org's admins (the CLI does the same as the operator: npm run key). */
export function apiKeyRoutes({ keyAdmin }: AppDomain) {
  return createRouter()
    .openapi(list, async (c) => c.json({ keys: (await keyAdmin.list(c.var.principal)).map(shown) }, 200))
    .openapi(create, async (c) => {
      const { user_id, kind, name } = c.req.valid('json');
      const key = await keyAdmin.create(c.var.principal, { userId: user_id, kind, ...(name ? { name } : {}) });
      return c.json({ ...shown(key), key: key.key }, 201);
    })
    .openapi(rotate, async (c) => {
      const key = await keyAdmin.rotate(c.var.principal, c.req.valid('param').id);
      return c.json({ ...shown(key), key: key.key }, 201);
    })
    .openapi(revoke, async (c) => c.json(shown(await keyAdmin.revoke(c.var.principal, c.req.valid('param').id)), 200));
}
