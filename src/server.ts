import { serve } from '@hono/node-server';
import { openDb } from './adapters/store/open-db.ts';
import { createApp } from './app.ts';
import { ensureLocalPrincipal } from './auth/principal.ts';
import { loadManifests } from './catalog/load-manifests.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services.ts';

/** Node entry: read config, open and migrate the store, load the catalog, serve HTTP. */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const db = await openDb({ ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}), dataDir: config.DATA_DIR });
  const services = createServices(db);
  const principal = await ensureLocalPrincipal(db);
  const manifests = loadManifests();
  await services.catalogRepo.upsert(manifests);

  const app = createApp({ services, logger, maxBodyBytes: config.MAX_BODY_BYTES, principal });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const base = `http://${config.HOST}:${info.port}`;
    logger.info({ store: db.kind, block_types: manifests.length }, 'started');
    process.stdout.write(
      `Constellation Agent is listening on ${base} (store: ${db.kind}${db.kind === 'pglite' ? ` in ${config.DATA_DIR}` : ''}, ${manifests.length} block types)\n` +
        `Try:  curl '${base}/v1/block-types?q=postgres'\n` +
        `API:  ${base}/openapi.json\n`,
    );
  });

  const stop = async () => {
    server.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Constellation Agent failed to start: ${(error as Error).stack ?? error}\n`);
  }
  process.exit(1);
});
