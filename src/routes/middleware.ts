import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Authenticator } from '../auth/authenticate.ts';
import { AppError } from '../errors.ts';
import { unstorableError } from '../input-guard.ts';
import type { Logger } from '../logger.ts';
import type { AppEnv } from './router.ts';

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

/** A request id (the caller's X-Request-Id if sane, else a new one) and a logger that carries it. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && /^[\w.-]{1,100}$/.test(given) ? given : crypto.randomUUID();
    const log = logger.child({ request_id: requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  };
}

/**
 * Every route but the public ones acts as the principal the Authorization header speaks for (or
 * the local user, in AUTH_MODE=local): a request without a good credential goes no further.
 */
export function authenticate(auth: Authenticator, publicPaths: readonly string[], publicPrefixes: readonly string[] = []): MiddlewareHandler<AppEnv> {
  const open = new Set(publicPaths);
  return async (c, next) => {
    const path = c.req.path;
    if (open.has(path.replace(/(.)\/+$/, '$1')) || publicPrefixes.some((prefix) => path.startsWith(prefix))) return next();
    c.set('principal', await auth.authenticate(c.req.header('authorization')));
    await next();
  };
}

/** The request's media type, without parameters such as charset. */
const mediaType = (c: Context) => (c.req.header('content-type') ?? '').split(';')[0]!.trim();

/**
 * POST, PUT and PATCH must say they send JSON, body or not. A cross-origin page can send a
 * "simple" request (no preflight) only with a form or text content type, or none at all
 * (`fetch(url, {method: 'POST', mode: 'no-cors'})`): requiring application/json turns every such
 * request away before it acts. DELETE needs a preflight anyway and MCP's `DELETE /mcp` has no body.
 * Null when the request may pass, else what to tell the caller.
 */
export function mediaTypeRefusal(c: Context): { message: string; hint: string } | null {
  if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return null;
  const type = mediaType(c);
  if (JSON_MEDIA.test(type)) return null;
  return {
    message: `This API takes JSON bodies, not "${type || 'no content type'}".`,
    hint: 'Send the header Content-Type: application/json, with the body as JSON ({} when there is nothing to send).',
  };
}

/** `mediaTypeRefusal` as a 415 in the service's error shape. */
export function requireJsonBodies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const refusal = mediaTypeRefusal(c);
    if (refusal) throw new AppError('unsupported_media_type', refusal.message, { hint: refusal.hint });
    await next();
  };
}

/**
 * `middleware` on every path but `paths` (with or without a trailing slash, as routing treats
 * them), whose handlers do the same job their own way: /mcp answers in JSON-RPC's shape and guards
 * each tool's input itself.
 */
export function except(paths: readonly string[], middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  const skip = new Set(paths);
  return (c, next) => (skip.has(c.req.path.replace(/(.)\/+$/, '$1')) ? next() : middleware(c, next));
}

/**
 * Refuses what the store cannot hold (see input-guard.ts) in the path, the query and a JSON body,
 * before any route's schema or handler touches it.
 */
export function guardInputs(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const segments = url.pathname.split('/').map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? values[0]! : values;
    }
    const refused = unstorableError(segments.join('/'), 'The URL path', 'invalid:request', '/path') ?? unstorableError(query, 'The query string', 'invalid:request', '/query');
    if (refused) throw refused;

    if (JSON_MEDIA.test(mediaType(c))) {
      // c.req.json() keeps what it parsed for the route's validator, which would otherwise parse
      // the body a second time. Malformed JSON is the validator's to report (invalid:json): it
      // gets the same rejection from that cache.
      const body = await c.req.json().catch(() => undefined);
      const error = unstorableError(body, 'The request body');
      if (error) throw error;
    }
    await next();
  };
}

export function limitBodies(maxBytes: number): MiddlewareHandler<AppEnv> {
  const tooLarge = (): never => {
    throw new AppError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`, {
      hint: 'Send a smaller body; edit large pipelines with JSON patches instead of whole specs.',
    });
  };
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    // A declared length is checked from the header (Node's parser reads exactly that many bytes).
    // Counting the body instead makes @hono/node-server build a whole fetch Request for every POST,
    // whose stream adapters then live as long as the response: for a chat turn, minutes.
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxBytes) tooLarge();
      return next();
    }
    return counted(c, next);
  };
}
