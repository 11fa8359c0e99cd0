import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { sameSecret } from '../auth/same-secret.ts';
import { AppError } from '../errors.ts';
import { isLoopback } from '../listen-policy.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createRouter, errorSchema, jsonResponse } from './router.ts';

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics (text format): with METRICS_TOKEN set, for its bearer only; without, only on a loopback listener',
  responses: {
    200: { content: { 'text/plain': { schema: z.string() } }, description: 'The Prometheus exposition text' },
    401: jsonResponse(errorSchema, 'METRICS_TOKEN is set and the request does not carry it'),
    403: jsonResponse(errorSchema, 'METRICS_TOKEN is not set and the request did not arrive on a loopback listener'),
  },
});

/**
 * GET /metrics. Its numbers tell who uses the service and how, so it is never open to the network:
 * with METRICS_TOKEN set it asks for `Authorization: Bearer <token>` (API keys and JWTs do not open
 * it: a scraper is not a user); without, it answers only a request that came to a loopback
 * listener from a loopback address (on Workers, where there is no such thing, it needs the token).
 */
export function metricsRoutes(source: Metrics, token: string | undefined) {
  return createRouter().openapi(metrics, async (c) => {
    if (token) {
      const sent = /^Bearer\s+(\S+)\s*$/.exec(c.req.header('authorization') ?? '')?.[1];
      if (!sent || !sameSecret(sent, token)) {
        throw new AppError('unauthorized:metrics', '/metrics needs the metrics token.', { hint: 'Send Authorization: Bearer <METRICS_TOKEN>.', headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
      }
    } else if (!arrivedOnLoopback(c)) {
      throw new AppError('forbidden:metrics', '/metrics answers only on a loopback listener while METRICS_TOKEN is not set.', {
        hint: 'Set METRICS_TOKEN on the service and send Authorization: Bearer <METRICS_TOKEN>, or scrape it from this machine through 127.0.0.1.',
      });
    }
    return c.body(await source.text(), 200, { 'content-type': source.contentType }) as never;
  });
}

type NodeBindings = { incoming?: { socket?: { localAddress?: string; remoteAddress?: string } } };

/** Whether the request came to a loopback address from one (Node's server passes its socket as env.incoming). */
function arrivedOnLoopback(c: Context): boolean {
  const socket = (c.env as NodeBindings | undefined)?.incoming?.socket;
  return socket?.localAddress !== undefined && socket.remoteAddress !== undefined && isLoopback(socket.localAddress) && isLoopback(socket.remoteAddress);
}
