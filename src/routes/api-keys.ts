import { createRoute, z } from '@hono/zod-openapi';
import type { ApiKeyInfo, IssuedKey } from '../auth/api-keys.ts';
import { ROLES } from '../auth/principal.ts';
import type { AppDomain } from '../app-domain.ts';
import { createRouter, errorResponses, errorSchema, jsonBody, jsonResponse, uuidParam } from './router.ts';

const kind = z.enum(['person', 'agent']).openapi({ description: "person: acts as the user; agent: an assistant's key, whose calls count as a model's for approvals" });
const timestamp = z.string().nullable();

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    user_name: z.string(),
    role: z.enum(ROLES),
    kind,
    name: z.string(),
    prefix: z.string().openapi({ description: "The key's first characters, to tell keys apart", example: 'cak_9fQe2xLw' }),
    created_at: z.string(),
    last_used_at: timestamp,
    revoked_at: timestamp,
  })
  .openapi('ApiKey');

export const issuedKeySchema = apiKeySchema.extend({ key: z.string().openapi({ description: 'The key itself: shown this once, never again' }) }).openapi('IssuedApiKey');

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** A key as the API shows it: dates as ISO strings, never the hash. */
export const keyView = (k: ApiKeyInfo) => ({
  id: k.id,
  user_id: k.user_id,
  user_name: k.user_name,
  role: k.role,
  kind: k.kind,
  name: k.name,
  prefix: k.prefix,
  created_at: iso(k.created_at)!,
  last_used_at: iso(k.last_used_at),
  revoked_at: iso(k.revoked_at),
});

export const issuedView = (k: IssuedKey) => ({ ...keyView(k), key: k.key });

const forbidden = { 403: jsonResponse(errorSchema, 'forbidden:role: managing keys needs the admin role') };

const createKey = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  summary: 'Issue an API key for a user of your org (admin)',
  request: jsonBody(
    z.object({ user_id: z.uuid(), kind, name: z.string().min(1).max(200).optional() }).strict(),
    'Whose key, and for whom: a person or an agent',
  ),
  responses: { 201: jsonResponse(issuedKeySchema, 'The new key, shown once'), ...forbidden, ...errorResponses },
});

const listKeys = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  summary: "List your org's API keys (admin)",
  responses: { 200: jsonResponse(z.object({ api_keys: z.array(apiKeySchema) }), 'Keys, oldest first; never the keys themselves'), ...forbidden },
});

const rotateKey = createRoute({
  method: 'post',
  path: '/v1/api-keys/{id}/rotate',
  summary: 'Rotate an API key (admin): a new key for the same user, the old one revoked',
  request: { params: uuidParam('id') },
  responses: { 201: jsonResponse(issuedKeySchema, 'The new key, shown once'), ...forbidden, ...errorResponses },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  summary: 'Revoke an API key (admin)',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(apiKeySchema, 'The revoked key'), ...forbidden, ...errorResponses },
});

const me = createRoute({
  method: 'get',
  path: '/v1/me',
  summary: 'Who you are: your user, org, role, and whether you act as a person or an agent',
  responses: {
    200: jsonResponse(
      z
        .object({ user_id: z.uuid(), user_name: z.string().nullable(), org_id: z.uuid(), org_name: z.string().nullable(), role: z.enum(ROLES), kind, key_id: z.uuid().nullable() })
        .openapi('Me'),
      'The principal this request acts as',
    ),
  },
});

/** Key management for an org's admins, the same KeyService the operator's CLI goes around. */
export function apiKeyRoutes({ keyAdmin }: AppDomain) {
  return createRouter()
    .openapi(createKey, async (c) => c.json(issuedView(await keyAdmin.create(c.var.principal, c.req.valid('json'))), 201))
    .openapi(listKeys, async (c) => c.json({ api_keys: (await keyAdmin.list(c.var.principal)).map(keyView) }, 200))
    .openapi(rotateKey, async (c) => c.json(issuedView(await keyAdmin.rotate(c.var.principal, c.req.valid('param').id)), 201))
    .openapi(revokeKey, async (c) => c.json(keyView(await keyAdmin.revoke(c.var.principal, c.req.valid('param').id)), 200))
    .openapi(me, async (c) => c.json(await keyAdmin.me(c.var.principal), 200));
}
