import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Principal } from '../auth/principal.ts';
import { AppError } from '../errors.ts';
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

/** Until authentication arrives, every request acts as the local principal. */
export function localPrincipal(principal: Principal): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('principal', principal);
    await next();
  };
}

/** A body that is not JSON gets 415 naming what to send, instead of a confusing validation error. */
export function requireJsonBodies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const hasBody = c.req.header('content-length') !== undefined && c.req.header('content-length') !== '0' || c.req.header('transfer-encoding') !== undefined;
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
    // A declared content type counts too: in-process requests (app.request, HTTP/2) may carry a
    // body with neither Content-Length nor Transfer-Encoding.
    if ((hasBody || type !== '') && ['POST', 'PUT', 'PATCH'].includes(c.req.method)) {
      if (!JSON_MEDIA.test(type)) {
        throw new AppError('unsupported_media_type', `This API takes JSON bodies, not "${type || 'no content type'}".`, {
          hint: 'Send the body as JSON with the header Content-Type: application/json.',
        });
      }
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
