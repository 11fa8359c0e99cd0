import { HTTPException } from 'hono/http-exception';
import { getPath } from 'hono/utils/url';
import { DagsterGraphqlError, DagsterUnavailableError } from './adapters/dagster/graphql-client.ts';
import { LOCAL_PRINCIPAL, type Principal } from './auth/principal.ts';
import { AppError } from './errors.ts';
import type { Logger } from './logger.ts';
import { blockRoutes } from './routes/blocks.ts';
import { blockTypeRoutes } from './routes/block-types.ts';
import { chatRoutes } from './routes/chat.ts';
import { dagsterRoutes } from './routes/dagster.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { healthRoutes } from './routes/health.ts';
import { guardInputs, limitBodies, localPrincipal, requestContext, requireJsonBodies } from './routes/middleware.ts';
import { originGuard } from './routes/origin-guard.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { createRouter } from './routes/router.ts';
import type { Services } from './services.ts';
import { DEFAULT_ALLOWED_HOSTS } from './config.ts';
import { createMcpServer } from '../mcp-server/create-server.ts';
import { createMcpHttpHandler } from '../mcp-server/http-handler.ts';
import { mcpRequestGuard } from '../mcp-server/origin-guard.ts';
import type { ToolGroup } from '../tools/tool.ts';

export interface AppDeps {
  services: Services;
  logger: Logger;
  maxBodyBytes: number;
  principal?: Principal;
  /** Host names every route answers to (ALLOWED_HOSTS); others get 403. */
  allowedHosts?: readonly string[];
  mcp?: { readOnly: boolean; groups?: ReadonlySet<ToolGroup>; approvals?: Services['approvals'] };
}

/** The whole HTTP surface, built from explicit dependencies (no module-level clients). */
export function createApp(deps: AppDeps) {
  // The seed's paths end in "/"; clients send both forms. Routing on the path without the
  // trailing slash serves both without a redirect (which would drop a POST body).
  const app = createRouter({
    getPath: (request) => {
      const path = getPath(request);
      return path.length > 1 && path.endsWith('/') ? path.replace(/\/+$/, '') || '/' : path;
    },
  });

  const allowedHosts = deps.allowedHosts ?? DEFAULT_ALLOWED_HOSTS;
  app.use('*', requestContext(deps.logger));
  // /mcp answers a foreign Host or Origin, or a POST that is not JSON, in JSON-RPC's shape; every other route in ours.
  app.use('/mcp', mcpRequestGuard(allowedHosts));
  app.use('*', originGuard(allowedHosts));
  app.use('*', localPrincipal(deps.principal ?? LOCAL_PRINCIPAL));
  app.use('*', limitBodies(deps.maxBodyBytes));
  app.use('*', requireJsonBodies());
  app.use('*', guardInputs({ ownBodies: ['/mcp'] }));

  app.route('/', healthRoutes(deps.services));
  app.route('/', blockTypeRoutes(deps.services));
  app.route('/', blockRoutes(deps.services));
  app.route('/', pipelineRoutes(deps.services));
  const mcp = deps.mcp ?? { readOnly: false };
  const approvals = mcp.approvals ?? deps.services.approvals;
  const mcpHandler = createMcpHttpHandler({
    newServer: (principal) => createMcpServer({ services: deps.services, logger: deps.logger, approvals, readOnly: mcp.readOnly, ...(mcp.groups ? { groups: mcp.groups } : {}) }, principal),
    logger: deps.logger,
  });
  app.all('/mcp', (c) => mcpHandler(c.req.raw, c.var.principal));

  app.route('/', deploymentRoutes(deps.services));
  app.route('/', chatRoutes(deps.services));
  app.route('/', dagsterRoutes(deps.services));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Constellation Agent',
      version: '0.1.0',
      description: 'Build, deploy and watch Dagster pipelines. Paths answer with and without a trailing slash.',
    },
  });

  app.notFound((c) => {
    const error = new AppError('not_found:route', `No route ${c.req.method} ${c.req.path}.`, { hint: 'GET /openapi.json lists every route.' });
    return c.json(error.toBody(c.var.requestId), 404);
  });

  app.onError((err, c) => {
    const error = toAppError(err);
    if (error.kind === 'internal') c.var.log?.error({ err }, 'unhandled error');
    else c.var.log?.debug({ code: error.code }, error.message);
    return c.json(error.toBody(c.var.requestId), error.status);
  });
  return app;
}

function toAppError(err: Error): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof DagsterUnavailableError || err instanceof DagsterGraphqlError) {
    return new AppError('unavailable:dagster', err.message, { hint: 'Check that the environment\'s Dagster webserver is running (npm run dagster for development).' });
  }
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) {
      return new AppError('invalid:json', 'The request body is not valid JSON.', { hint: 'Check quotes, commas and brackets; send Content-Type: application/json.' });
    }
    if (err.status === 413) return new AppError('payload_too_large', 'The request body is too large.');
    // @hono/zod-openapi's media type gate answers a non-JSON body this way; it is the client's
    // mistake, not ours (without this it became a 500).
    if (err.status === 415) {
      return new AppError('unsupported_media_type', 'This API takes JSON bodies.', { hint: 'Send the body as JSON with the header Content-Type: application/json.' });
    }
    // Any other refusal by the framework is still the client's; keep its status class.
    if (err.status === 404) return new AppError('not_found:route', 'Nothing is served here.', { hint: 'GET /openapi.json lists every route.' });
    if (err.status >= 400 && err.status < 500) return new AppError('invalid:request', 'The request was refused.', { hint: 'GET /openapi.json describes what each route accepts.' });
  }
  // Anything else is ours: say so without leaking the message or stack.
  return new AppError('internal', 'Something went wrong on our side; the request id identifies it in our logs.');
}
