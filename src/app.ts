import { getPath } from 'hono/utils/url';
import { LOCAL_PRINCIPAL, type Principal } from './auth/principal.ts';
import { AppError, toAppError } from './errors.ts';
import type { Logger } from './logger.ts';
import { blockRoutes } from './routes/blocks.ts';
import { blockTypeRoutes } from './routes/block-types.ts';
import { codeRepoRoutes } from './routes/code-repos.ts';
import { chatRoutes } from './routes/chat.ts';
import { dagsterRoutes } from './routes/dagster.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { backfillRoutes } from './routes/backfills.ts';
import { triggerRoutes } from './routes/triggers.ts';
import { inspectionRoutes } from './routes/inspection.ts';
import { auditRoutes } from './routes/audit.ts';
import { auditWrites } from './routes/audit-writes.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { countRequests } from './observability/count-requests.ts';
import { DOCS_PATH, DOCS_SCRIPT_PATH, docsRoutes } from './routes/docs.ts';
import { NO_API_REFERENCE_SCRIPT, type ApiReferenceScript } from './docs/api-reference-script.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { OPERATOR_PREFIX, operatorRoutes } from './routes/operator.ts';
import { authenticate, except, guardInputs, limitBodies, requestContext, requireJsonBodies } from './routes/middleware.ts';
import { Authenticator } from './auth/authenticate.ts';
import { originGuard } from './routes/origin-guard.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { createRouter } from './routes/router.ts';
import { webPageRoutes } from './routes/web-page.ts';
import { webAssetsFromDisk, type WebAssets } from './web-assets.ts';
import { serveOpenApiDocument } from './routes/openapi-doc.ts';
import type { AppDomain } from './app-domain.ts';
import { DEFAULT_ALLOWED_HOSTS } from './config.ts';
import { createMcpServer } from '../mcp-server/create-server.ts';
import { createMcpHttpHandler } from '../mcp-server/http-handler.ts';
import { mcpRequestGuard } from '../mcp-server/origin-guard.ts';
import type { ToolGroup } from '../tools/tool.ts';

export interface AppDeps {
  /** The domain facade the routes, the MCP server and its tools are built from (never the whole container). */
  domain: AppDomain;
  logger: Logger;
  maxBodyBytes: number;
  /** Who each request is (API keys, JWTs); AUTH_MODE=local with `principal` when left out. */
  auth?: Authenticator;
  /** The local user, when `auth` is left out (default LOCAL_PRINCIPAL). */
  principal?: Principal;
  /** Host names every route answers to (ALLOWED_HOSTS); others get 403. */
  allowedHosts?: readonly string[];
  /** The operator token the keys CLI sends while this service holds the embedded store (see auth/operator.ts). */
  operatorToken?: string;
  /** METRICS_TOKEN: the bearer token GET /metrics asks for; unset, it answers on loopback only. */
  metricsToken?: string;
  /** The built web page served at / (web/dist by default). */
  web?: WebAssets;
  /** Scalar's bundle for the /docs page (findScalarBundle); without it /docs answers 503. */
  apiReference?: ApiReferenceScript;
  mcp?: {
    readOnly: boolean;
    groups?: ReadonlySet<ToolGroup>;
    approvals?: AppDomain['approvals'];
    /** Sessions per principal and how long an idle one lives (see createMcpHttpHandler). */
    maxSessionsPerPrincipal?: number;
    sessionIdleMs?: number;
    /** A fresh server per request, no sessions (Workers: see createMcpHttpHandler). */
    stateless?: boolean;
  };
}

/**
 * What anyone may read without a credential: liveness and readiness, the API's description (as JSON and as a
 * page), and the web page (its HTML and files hold no data; the page asks for a key before it reads any).
 */
export const PUBLIC_PATHS = ['/health', '/health/ready', '/metrics', '/openapi.json', DOCS_PATH, DOCS_SCRIPT_PATH, '/'] as const;
export const PUBLIC_PREFIXES = ['/assets/'] as const;

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
  // First: refusals by the middleware below are requests too.
  app.use('*', countRequests(deps.domain.metrics));
  app.use('*', requestContext(deps.logger));
  // /mcp answers a foreign Host or Origin, or a POST that is not JSON, in JSON-RPC's shape; every other route in ours.
  // (mcpRequestGuard does there what originGuard and requireJsonBodies do elsewhere, and each
  // tool guards its own input, so those checks do not run twice on every MCP call.)
  app.use('/mcp', mcpRequestGuard(allowedHosts));
  app.use('*', except(['/mcp'], originGuard(allowedHosts)));
  const auth = deps.auth ?? new Authenticator({ mode: 'local', keys: deps.domain.keys, local: deps.principal ?? LOCAL_PRINCIPAL });
  // Operator routes take the operator token instead (routes/operator.ts), never a key or a JWT.
  const authn = authenticate(auth, PUBLIC_PATHS, PUBLIC_PREFIXES);
  app.use('*', (c, next) => (c.req.path.startsWith(OPERATOR_PREFIX) ? next() : authn(c, next)));
  app.use('*', except(['/mcp'], auditWrites(deps.domain.audit)));
  app.use('*', limitBodies(deps.maxBodyBytes));
  app.use('*', except(['/mcp'], requireJsonBodies()));
  app.use('*', except(['/mcp'], guardInputs()));

  app.route('/', webPageRoutes(deps.web ?? webAssetsFromDisk()));
  app.route('/', healthRoutes(deps.domain));
  app.route('/', metricsRoutes(deps.domain.metrics, deps.metricsToken));
  app.route('/', docsRoutes(deps.apiReference ?? NO_API_REFERENCE_SCRIPT));
  app.route('/', blockTypeRoutes(deps.domain));
  app.route('/', codeRepoRoutes(deps.domain));
  app.route('/', blockRoutes(deps.domain));
  app.route('/', pipelineRoutes(deps.domain));
  const mcp = deps.mcp ?? { readOnly: false };
  const approvals = mcp.approvals ?? deps.domain.approvals;
  const mcpHandler = createMcpHttpHandler({
    newServer: (principal) => createMcpServer({ domain: deps.domain, logger: deps.logger, approvals, readOnly: mcp.readOnly, ...(mcp.groups ? { groups: mcp.groups } : {}) }, principal),
    logger: deps.logger,
    sessions: { opened: () => deps.domain.metrics.mcpSessionOpened(), closed: () => deps.domain.metrics.mcpSessionClosed() },
    ...(mcp.maxSessionsPerPrincipal ? { maxSessionsPerPrincipal: mcp.maxSessionsPerPrincipal } : {}),
    ...(mcp.sessionIdleMs ? { idleMs: mcp.sessionIdleMs } : {}),
    ...(mcp.stateless ? { stateless: true } : {}),
  });
  app.all('/mcp', (c) => mcpHandler(c.req.raw, c.var.principal));

  app.route('/', deploymentRoutes(deps.domain));
  app.route('/', triggerRoutes(deps.domain));
  app.route('/', inspectionRoutes(deps.domain));
  app.route('/', backfillRoutes(deps.domain));
  app.route('/', approvalRoutes(deps.domain));
  app.route('/', chatRoutes(deps.domain));
  app.route('/', dagsterRoutes(deps.domain));
  app.route('/', auditRoutes(deps.domain));
  app.route('/', apiKeyRoutes(deps.domain));
  if (deps.operatorToken) app.route('/', operatorRoutes(deps.domain.operatorKeys, deps.operatorToken));

  serveOpenApiDocument(app);

  app.notFound((c) => {
    const error = new AppError('not_found:route', `No route ${c.req.method} ${c.req.path}.`, { hint: 'GET /openapi.json lists every route.' });
    return c.json(error.toBody(c.var.requestId), 404);
  });

  app.onError((err, c) => {
    const error = toAppError(err);
    if (error.kind === 'internal') c.var.log?.error({ err }, 'unhandled error');
    else c.var.log?.debug({ code: error.code }, error.message);
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json(error.toBody(c.var.requestId), error.status);
  });
  // A shutdown closes the MCP sessions this app holds (see src/shutdown.ts).
  return Object.assign(app, { closeMcpSessions: () => mcpHandler.closeAll() });
}
