import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { KeyOperations } from '../auth/key-service.ts';
import { isOperatorToken } from '../auth/operator.ts';
import { ROLES } from '../auth/principal.ts';
import { AppError } from '../errors.ts';
import { apiKeySchema, issuedKeySchema, issuedView, keyView } from './api-keys.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, uuidParam, type AppEnv } from './router.ts';

/**
 * The keys CLI's way in while the service holds the embedded store: only the operator token from
 * DATA_DIR/operator.token opens these routes (never an API key or a JWT: the app's authentication
 * skips this prefix), and they are left out of the OpenAPI document.
 */
export const OPERATOR_PREFIX = '/v1/operator/';

const org = z.string().min(1).max(200);

const create = createRoute({
  hide: true,
  method: 'post',
  path: '/v1/operator/keys',
  request: jsonBody(
    z.object({ org, user: z.string().min(1).max(200), role: z.enum(ROLES).optional(), kind: z.enum(['person', 'agent']), name: z.string().min(1).max(200).optional() }).strict(),
    'The org and user (made when new) and the key',
  ),
  responses: { 201: jsonResponse(issuedKeySchema.extend({ org_id: z.uuid(), org_created: z.boolean(), user_created: z.boolean() }), 'The new key'), ...errorResponses },
});

const list = createRoute({
  hide: true,
  method: 'get',
  path: '/v1/operator/keys',
  request: { query: z.object({ org }) },
  responses: { 200: jsonResponse(z.object({ api_keys: z.array(apiKeySchema) }), "The org's keys"), ...errorResponses },
});

const rotate = createRoute({
  hide: true,
  method: 'post',
  path: '/v1/operator/keys/{id}/rotate',
  request: { params: uuidParam('id') },
  responses: { 201: jsonResponse(issuedKeySchema, 'The new key'), ...errorResponses },
});

const revoke = createRoute({
  hide: true,
  method: 'delete',
  path: '/v1/operator/keys/{id}',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(apiKeySchema, 'The revoked key'), ...errorResponses },
});

function requireOperator(token: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!isOperatorToken(c.req.header('authorization'), token)) {
      throw new AppError('unauthorized', 'Operator routes take only the operator token.', {
        hint: 'Use the keys CLI on the machine the service runs on (npm run key -- …): it reads DATA_DIR/operator.token.',
        headers: { 'www-authenticate': 'Operator realm="constellation-agent"' },
      });
    }
    await next();
  };
}

export function operatorRoutes(ops: KeyOperations, token: string) {
  const router = createRouter();
  router.use(`${OPERATOR_PREFIX}*`, requireOperator(token));
  return router
    .openapi(create, async (c) => {
      const issued = await ops.create(c.req.valid('json'));
      return c.json({ ...issuedView(issued), org_id: issued.org_id, org_created: issued.org_created, user_created: issued.user_created }, 201);
    })
    .openapi(list, async (c) => c.json({ api_keys: (await ops.list(c.req.valid('query').org)).map(keyView) }, 200))
    .openapi(rotate, async (c) => c.json(issuedView(await ops.rotate(c.req.valid('param').id)), 201))
    .openapi(revoke, async (c) => c.json(keyView(await ops.revoke(c.req.valid('param').id)), 200));
}
