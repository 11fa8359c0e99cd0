import workerValidators from '@constellation/worker-validators';
import type { ExecutionContext } from 'cloudflare:workers';
import { DurableObjectKv, type KvObjectNamespace } from './adapters/kv/durable-object-kv.ts';
import type { Db } from './adapters/store/db.ts';
import { migrate } from './adapters/store/migrate.ts';
import { openPostgresDb } from './adapters/store/postgres-db.ts';
import { llmFromConfig } from './agent/llm.ts';
import { createApp } from './app.ts';
import { Authenticator } from './auth/authenticate.ts';
import { limitsFromConfig } from './auth/limits.ts';
import { LOCAL_PRINCIPAL } from './auth/principal.ts';
import { supabaseJwtFromConfig } from './auth/supabase-jwt.ts';
import { usePrecompiledValidators } from './catalog/config-validator.ts';
import { loadManifests } from './catalog/load-manifests.ts';
import { CatalogRepo } from './catalog/catalog-repo.ts';
import { repoPolicyFromConfig } from './code-repos/repo-policy.ts';
import { ConfigError } from './config.ts';
import { loadEnvironments } from './dagster/environments.ts';
import { AppError } from './errors.ts';
import { allowedHosts } from './listen-policy.ts';
import { createLogger, type Logger } from './logger.ts';
import { mcpOptions } from './mcp-options.ts';
import { WORKERS_RUNTIME } from './runtime.ts';
import { createServices } from './services.ts';
import type { WebAssets } from './web-assets.ts';
import { workerSettings, type WorkerEnv, type WorkerSettings } from './workers/worker-config.ts';

export { KvObject } from './workers/kv-object.ts';

usePrecompiledValidators(workerValidators);

/** The page is the Node server's (web/dist on its disk); here / says so instead. */
const NO_WEB_PAGE: WebAssets = { index: async () => null, asset: async () => null };

/** Once per isolate: the store's migrations and the catalog, as the Node server does at start. */
let prepared: Promise<void> | null = null;
function prepare(db: Db): Promise<void> {
  prepared ??= (async () => {
    await migrate(db);
    await new CatalogRepo(db).upsert(loadManifests());
  })().catch((error: unknown) => {
    prepared = null;
    throw error;
  });
  return prepared;
}

/** pino, writing JSON lines to the Workers log (console). */
const loggers = new Map<string, Logger>();
function workerLogger(level: string): Logger {
  let logger = loggers.get(level);
  if (!logger) loggers.set(level, (logger = createLogger(level, { write: (line: string) => console.log(line.trimEnd()) })));
  return logger;
}

/**
 * The service on Cloudflare Workers: the same createApp and domain as the Node server, on
 * Postgres over the network and the Durable Object KV. A socket belongs to the request that
 * opened it here, so each request opens its own small pool (Hyperdrive pools the real
 * connections) and the services over it, and closes it when its response has been sent.
 * What needs a disk, subprocesses or git answers unavailable:runtime (src/runtime.ts).
 */
function appFor(db: Db, { config }: WorkerSettings, env: WorkerEnv) {
  const logger = workerLogger(config.LOG_LEVEL);
  const services = createServices(db, {
    runtime: WORKERS_RUNTIME,
    environments: loadEnvironments({ dataDir: '/workers-has-no-disk', defaultGraphqlUrl: config.DAGSTER_GRAPHQL_URL === 'none' ? '' : config.DAGSTER_GRAPHQL_URL }),
    logger,
    kv: new DurableObjectKv(env.KV as KvObjectNamespace),
    llm: llmFromConfig(config),
    deployWorkers: 0,
    reconcileMs: 0,
    chatStepLimit: config.CHAT_STEP_LIMIT,
    chatTurnTimeoutMs: config.CHAT_TURN_TIMEOUT_SECONDS * 1000,
    chatTurnLeaseSeconds: config.CHAT_TURN_LEASE_SECONDS,
    limits: limitsFromConfig(config),
    codeRepos: { policy: repoPolicyFromConfig(config) },
  });
  const jwt = supabaseJwtFromConfig(config, db);
  const auth = new Authenticator({ mode: 'required', keys: services.keys, local: LOCAL_PRINCIPAL, ...(jwt ? { jwt } : {}) });
  return createApp({
    domain: services.domain,
    logger,
    maxBodyBytes: config.MAX_BODY_BYTES,
    auth,
    allowedHosts: allowedHosts(config),
    web: NO_WEB_PAGE,
    // Sessions would live in one isolate, and the next request may reach another.
    mcp: { ...mcpOptions(config), stateless: true },
  });
}

const unavailable = (error: AppError) => Response.json(error.toBody(), { status: 503 });

/** Closes the request's pool once the response body has gone out (a stream may run long after fetch returns). */
function closingAfter(response: Response, db: Db, ctx: ExecutionContext): Response {
  if (!response.body) {
    ctx.waitUntil(db.close());
    return response;
  }
  const { readable, writable } = new TransformStream();
  ctx.waitUntil(response.body.pipeTo(writable).catch(() => undefined).finally(() => db.close()));
  return new Response(readable, response);
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let settings: WorkerSettings;
    try {
      settings = workerSettings(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(error.message);
      return unavailable(new AppError('unavailable:config', error.message, { hint: 'Set the Worker\'s vars and secrets as the README says ("Running on Cloudflare Workers").' }));
    }
    let db: Db;
    try {
      db = await openPostgresDb(settings.databaseUrl, 5);
    } catch (error) {
      console.error(`Postgres is unreachable: ${(error as Error).message}`);
      return unavailable(new AppError('unavailable:store', 'The store (Postgres) does not answer.', { hint: 'Check DATABASE_URL or the Hyperdrive binding, and that the database accepts connections.' }));
    }
    try {
      await prepare(db);
      return closingAfter(await appFor(db, settings, env).fetch(request), db, ctx);
    } catch (error) {
      await db.close().catch(() => undefined);
      throw error;
    }
  },
};
