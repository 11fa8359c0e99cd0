// The stdio entry for IDE assistants (Claude Code, Cursor, VS Code): `npm run -s mcp`.
// stdout carries the protocol and nothing else; logs and notices go to stderr.
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { join } from 'node:path';
import { openDb } from '../src/adapters/store/open-db.ts';
import { openKv } from '../src/adapters/kv/open-kv.ts';
import { loadManifests } from '../src/catalog/load-manifests.ts';
import { loadConfig } from '../src/config.ts';
import { loadEnvironments } from '../src/dagster/environments.ts';
import { createLogger } from '../src/logger.ts';
import { mcpOptions } from '../src/mcp-options.ts';
import { createServices } from '../src/services.ts';
import { limitsFromConfig } from '../src/auth/limits.ts';
import { findServiceMcpUrl } from '../src/service-url.ts';
import { createMcpServer } from './create-server.ts';
import { bridgeHeaders, stdioPrincipal } from './stdio-principal.ts';

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
const say = (line: string) => process.stderr.write(`constellation-agent mcp: ${line}\n`);

async function serveStore(databaseUrl: string) {
  // The service's Redis too, if it has one: rate limits count a user's calls from here with theirs.
  const kv = await openKv({ ...(config.REDIS_URL ? { redisUrl: config.REDIS_URL } : {}), logger });
  const db = await openDb({ databaseUrl });
  const environments = loadEnvironments({
    ...(config.DAGSTER_ENVIRONMENTS ? { file: config.DAGSTER_ENVIRONMENTS } : {}),
    dataDir: config.DATA_DIR,
    defaultGraphqlUrl: config.DAGSTER_GRAPHQL_URL === 'none' ? '' : config.DAGSTER_GRAPHQL_URL,
  });
  const services = createServices(db, { environments, logger, kv, leaseSeconds: config.DEPLOY_LEASE_SECONDS, deployWorkers: config.DEPLOY_WORKERS, dbtManifestDir: join(config.DATA_DIR, 'dbt-manifests'), limits: limitsFromConfig(config) });
  const principal = await stdioPrincipal({ db, keys: services.keys, apiKey: config.CONSTELLATION_API_KEY, mode: config.AUTH_MODE });
  await services.catalogRepo.upsert(loadManifests());
  // Deploys asked for here are carried out here too; leases keep it safe beside a running service.
  services.worker.start();
  const { readOnly, groups } = mcpOptions(config);
  const server = createMcpServer({ domain: services.domain, logger, approvals: services.approvals, readOnly, ...(groups ? { groups } : {}) }, principal);
  const transport = new StdioServerTransport();
  transport.onclose = () => {
    void services.worker.stop().then(() => Promise.all([db.close(), kv.close()])).finally(() => process.exit(0));
  };
  await server.connect(transport);
  closeOnEndOfInput(transport);
  say(`serving the Postgres store directly${readOnly ? ' (read-only)' : ''}, as ${config.CONSTELLATION_API_KEY ? `the ${principal.kind} key ${principal.keyId}` : 'the local user'}`);
}

/**
 * The embedded PGlite store belongs to one process (the running service), so this entry relays
 * the protocol to that service's /mcp instead of opening the store a second time.
 */
async function bridge({ url, from }: { url: string; from: string }) {
  const up = new StdioServerTransport();
  const down = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: bridgeHeaders(config.CONSTELLATION_API_KEY) } });
  up.onmessage = (message: JSONRPCMessage) => {
    down.send(message).catch((error: Error) => {
      if ('id' in message && 'method' in message) {
        void up.send({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: `No Constellation Agent answers at ${url} (found from ${from}: ${error.message}). Start it with npm start, or set DATABASE_URL to serve a Postgres store directly.` } });
      }
    });
  };
  down.onmessage = (message) => void up.send(message);
  down.onerror = (error) => say(`service connection: ${error.message}`);
  up.onclose = () => {
    // End the session on the service too, rather than leave it to the idle sweep.
    void down.terminateSession().catch(() => undefined).then(() => down.close()).finally(() => process.exit(0));
  };
  await down.start();
  await up.start();
  closeOnEndOfInput(up);
  say(`bridging to ${url} (found from ${from}; the embedded store serves one process, so set DATABASE_URL to open a Postgres store here instead)`);
}

/**
 * A client ends a stdio server by closing its stdin (then waits, then signals). The SDK's
 * transport does not notice end of input, so its onclose (stop the worker, close the store, exit)
 * would never run and the open store would keep the process alive until killed.
 */
function closeOnEndOfInput(transport: StdioServerTransport) {
  process.stdin.once('end', () => void transport.close());
}

(config.DATABASE_URL ? serveStore(config.DATABASE_URL) : bridge(findServiceMcpUrl(config))).catch((error) => {
  say(`failed to start: ${(error as Error).message}`);
  process.exit(1);
});
