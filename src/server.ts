import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { openDb } from './adapters/store/open-db.ts';
import { openKv } from './adapters/kv/open-kv.ts';
import { createApp } from './app.ts';
import { ensureLocalPrincipal } from './auth/principal.ts';
import { Authenticator } from './auth/authenticate.ts';
import { supabaseJwtFromConfig } from './auth/supabase-jwt.ts';
import { newOperatorToken, readRunningService, writeServiceFiles } from './auth/operator.ts';
import { loadManifests } from './catalog/load-manifests.ts';
import { ConfigError, loadConfig } from './config.ts';
import { loadEnvironments } from './dagster/environments.ts';
import { createLogger, logFormat } from './logger.ts';
import { createServices } from './services.ts';
import { repoPolicyFromConfig } from './code-repos/repo-policy.ts';
import { limitsFromConfig } from './auth/limits.ts';
import { mcpOptions } from './mcp-options.ts';
import { allowedHosts, checkListenAddress } from './listen-policy.ts';
import { llmFromConfig } from './agent/llm.ts';
import { findScalarBundle } from './docs/scalar-bundle.ts';
import { localServiceUrl } from './service-url.ts';
import { shutDown } from './shutdown.ts';

/** Longer than the idle timeout of the load balancers in front of the service (see below). */
const KEEP_ALIVE_TIMEOUT_MS = 76_000;

/** Node entry: read config, open and migrate the store, load the catalog, serve HTTP. */
async function main() {
  const config = loadConfig();
  // Before anything is opened: a refusal leaves nothing behind.
  const { warning } = checkListenAddress(config);
  const logger = createLogger(config.LOG_LEVEL, undefined, logFormat(config.LOG_FORMAT, process.stderr.isTTY === true));
  if (warning) {
    process.stderr.write(`WARNING: ${warning}\n`);
    logger.warn({ host: config.HOST }, warning);
  }
  // The embedded store belongs to one process: a second service on it would write apart from the first.
  const holder = config.DATABASE_URL ? null : readRunningService(config.DATA_DIR);
  if (holder) {
    throw new ConfigError(
      `Refusing to start: another Constellation Agent (pid ${holder.pid}, ${holder.url}) holds the embedded store in DATA_DIR=${config.DATA_DIR}.\n` +
        '  Use that one, stop it first, or give this one its own DATA_DIR (or a shared Postgres with DATABASE_URL).',
    );
  }
  // First, since it is the likelier to be unreachable: nothing else is open yet when it stops start-up.
  const kv = await openKv({ ...(config.REDIS_URL ? { redisUrl: config.REDIS_URL } : {}), logger });
  const db = await openDb({ ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}), dataDir: config.DATA_DIR });
  const environments = loadEnvironments({
    ...(config.DAGSTER_ENVIRONMENTS ? { file: config.DAGSTER_ENVIRONMENTS } : {}),
    dataDir: config.DATA_DIR,
    defaultGraphqlUrl: config.DAGSTER_GRAPHQL_URL === 'none' ? '' : config.DAGSTER_GRAPHQL_URL,
  });
  const services = createServices(db, {
    environments,
    logger,
    leaseSeconds: config.DEPLOY_LEASE_SECONDS,
    deployWorkers: config.DEPLOY_WORKERS,
    llm: llmFromConfig(config),
    kv,
    chatStepLimit: config.CHAT_STEP_LIMIT,
    chatTurnTimeoutMs: config.CHAT_TURN_TIMEOUT_SECONDS * 1000,
    chatTurnLeaseSeconds: config.CHAT_TURN_LEASE_SECONDS,
    dbtManifestDir: join(config.DATA_DIR, 'dbt-manifests'),
    limits: limitsFromConfig(config),
    codeRepos: { policy: repoPolicyFromConfig(config) },
  });
  services.domain.metrics.collectProcessMetrics();
  const principal = await ensureLocalPrincipal(db);
  const manifests = loadManifests();
  await services.catalogRepo.upsert(manifests);

  // Workspaces exist before any deploy, so `npm run dagster` has a workspace.yaml to serve.
  for (const connection of services.connections.all()) connection.workspace.writeWorkspaceYaml();
  services.worker.start();

  const jwt = supabaseJwtFromConfig(config, db);
  const auth = new Authenticator({ mode: config.AUTH_MODE, keys: services.keys, local: principal, ...(jwt ? { jwt } : {}) });
  // Only this process may open the embedded store: the keys CLI reaches it through us, with a
  // token made for this run. The port is known once listening; the token is needed before.
  let operator: { token: string; remove: () => void } | null = null;
  let operatorToken: string | undefined;
  if (db.kind === 'pglite') operatorToken = newOperatorToken();
  const apiReference = findScalarBundle();
  if ('missing' in apiReference) logger.warn({ missing: apiReference.missing }, '/docs answers 503: the API reference script is missing');
  const app = createApp({ domain: services.domain, logger, maxBodyBytes: config.MAX_BODY_BYTES, auth, allowedHosts: allowedHosts(config), mcp: mcpOptions(config), apiReference, ...(operatorToken ? { operatorToken } : {}), ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}) });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const base = `http://${config.HOST}:${info.port}`;
    if (operatorToken) operator = writeServiceFiles(config.DATA_DIR, localServiceUrl(config.HOST, info.port), operatorToken);
    logger.info({ store: db.kind, kv: kv.kind, block_types: manifests.length }, 'started');
    const envs = services.connections.all().map((c) => `${c.env.name}: ${c.env.graphqlUrl ?? 'no Dagster'}, workspace ${c.workspace.dir}`);
    process.stdout.write(
      `Constellation Agent is listening on ${base} (store: ${db.kind}${db.kind === 'pglite' ? ` in ${config.DATA_DIR}` : ''}, KV: ${kv.kind}, ${manifests.length} block types)\n` +
        `Environments: ${envs.join('; ')}\n` +
        `Auth: ${config.AUTH_MODE === 'local' ? 'local (requests without a key act as the local user; AUTH_MODE=required turns that off)' : 'required (Authorization: Bearer <key or JWT>; issue keys with npm run key -- create)'}${jwt ? `; Supabase JWTs accepted (${[config.SUPABASE_URL ? 'JWKS' : '', config.SUPABASE_JWT_SECRET ? 'HS256 secret' : ''].filter(Boolean).join(', ')})` : ''}\n` +
        `Chat: ${services.chat.configured ? `POST ${base}/v1/chat (model ${config.OPENAI_MODEL})` : 'off (set OPENAI_API_KEY to turn it on)'}\n` +
        `Page: ${base}/  (chat, the pipeline as a graph, approvals, deployments and runs)\n` +
        `Try:  curl '${base}/v1/block-types?q=postgres'\n` +
        `API:  ${base}/docs (${base}/openapi.json)   MCP: ${base}/mcp${config.MCP_READ_ONLY ? ' (read-only)' : ''}\n`,
    );
  });

  // An idle keep-alive connection is closed by the side whose timer fires first; a request the
  // client sends on it at that moment fails with "socket hang up" (seen in the load bench with
  // Node's 5 s default). Load balancers keep idle connections for 60 s (ALB, nginx 75 s):
  // outlive them, so it is always the client side that closes. Shutdown closes idle ones at once.
  const httpServer = server as Server;
  httpServer.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  httpServer.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  server.on('error', async (error: NodeJS.ErrnoException) => {
    const taken = error.code === 'EADDRINUSE';
    process.stderr.write(
      taken
        ? `Constellation Agent could not listen: ${config.HOST}:${config.PORT} is taken (another service?). Stop it, or set PORT to a free port.\n`
        : `Constellation Agent could not listen on ${config.HOST}:${config.PORT}: ${error.message}\n`,
    );
    await services.worker.stop();
    await db.close();
    await kv.close();
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal while draining: the operator does not want to wait.
    if (stopping) {
      logger.warn({ signal }, 'shutdown: second signal, exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    operator?.remove();
    shutDown(
      {
        logger,
        server,
        markNotReady: () => services.domain.readiness.markShuttingDown(),
        drainChats: (ms) => services.chat.drain(ms),
        drainMs: config.SHUTDOWN_DRAIN_SECONDS * 1000,
        closeMcpSessions: () => app.closeMcpSessions(),
        closers: [
          { name: 'deploy worker', close: () => services.worker.stop() },
          { name: 'code repository checks', close: () => services.codeRepos.idle() },
          { name: 'store', close: () => db.close() },
          { name: 'KV', close: () => kv.close() },
        ],
      },
      signal,
    ).then(
      () => {
        logger.info('shutdown: done');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown: a step failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Constellation Agent failed to start: ${(error as Error).stack ?? error}\n`);
  }
  process.exit(1);
});
