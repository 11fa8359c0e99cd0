import { createRoute, z } from '@hono/zod-openapi';
import type { AppDomain } from '../app-domain.ts';
import { createRouter, errorResponses, jsonResponse } from './router.ts';

const approvalSchema = z
  .object({
    ref: z.string().openapi({ description: "The request's reference (the hash of its id); approving by it works as by the id" }),
    action: z.string().openapi({ description: 'What waits: "deploy", or a tool\'s name' }),
    surface: z.string().openapi({ description: 'Where the call came in: mcp, chat or rest' }),
    summary: z.record(z.string(), z.unknown()).openapi({ description: 'What would be done' }),
    status: z.enum(['pending', 'approved', 'denied', 'used']),
    user_id: z.string(),
    created_at: z.string(),
    expires_at: z.string(),
  })
  .openapi('ApprovalRequest');

const idParam = z.object({ id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' }, description: 'The approval id (apr_…) or its ref' }) });

const list = createRoute({
  method: 'get',
  path: '/v1/approvals',
  summary: "The org's approval requests waiting for a person",
  responses: { 200: jsonResponse(z.object({ approvals: z.array(approvalSchema) }), 'Pending requests, newest first'), ...errorResponses },
});

const decision = (verb: 'approve' | 'deny') =>
  createRoute({
    method: 'post',
    path: `/v1/approvals/{id}/${verb}`,
    summary: verb === 'approve' ? 'Approve a pending request: the same call, made again, goes through once' : 'Deny a pending request',
    description: "Only a person (not an agent's key) with the role the action needs (deploy: deployer) answers; another org's request is a 404.",
    request: { params: idParam },
    responses: { 200: jsonResponse(approvalSchema, 'The request as answered'), ...errorResponses },
  });

/** The person's channel for approval requests (the CLI `npm run approve` calls these). */
export function approvalRoutes({ approvals }: Pick<AppDomain, 'approvals'>) {
  return createRouter()
    .openapi(list, async (c) => c.json({ approvals: await approvals.pending(c.var.principal) }, 200))
    .openapi(decision('approve'), async (c) => c.json(await approvals.decide(c.var.principal, c.req.valid('param').id, true), 200))
    .openapi(decision('deny'), async (c) => c.json(await approvals.decide(c.var.principal, c.req.valid('param').id, false), 200));
}
