import { Writable } from 'node:stream';
import type { Db } from '../../src/adapters/store/db.ts';
import { createApp, type AppDeps } from '../../src/app.ts';
import { ensureLocalPrincipal, type PrincipalKind, type Role } from '../../src/auth/principal.ts';
import { Authenticator, type AuthMode, type CredentialVerifier } from '../../src/auth/authenticate.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { findScalarBundle } from '../../src/docs/scalar-bundle.ts';
import type { ApiReferenceScript } from '../../src/docs/api-reference-script.ts';
import { createLogger } from '../../src/logger.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PYTHON, type Environment } from '../../src/dagster/environments.ts';
import { NO_LIMITS } from '../../src/auth/limits.ts';
import { createServices, type ServiceOptions, type Services } from '../../src/services.ts';
import { freshDb, type StoreKind } from './databases.ts';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  services: Services;
  /** What the app asks who a request is (for surfaces tested without HTTP, e.g. MCP in memory). */
  auth: Authenticator;
  db: Db;
  /** Log lines the app wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** JSON request helper: `call('POST', '/v1/blocks', body)` → { status, body }. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** A new API key (org and user made when new), as the CLI issues one; `as(key)` sends it. */
  issueKey(input: { org: string; user: string; role?: Role; kind?: PrincipalKind }): Promise<{ key: string; orgId: string; userId: string }>;
  close(): Promise<void>;
}

/** The Authorization header for a key. */
export const as = (key: string) => ({ authorization: `Bearer ${key}` });

const manifests = loadManifests();

/** The real app over a fresh real store with the built-in catalog loaded. */
/** One environment whose locations are written to a temp folder and never loaded (no Dagster). */
export function writeOnlyEnvironment(name = 'development', overrides: Partial<Environment> = {}): Environment {
  return {
    name,
    workspaceDir: mkdtempSync(join(tmpdir(), `constellation-ws-${name}-`)),
    graphqlUrl: null,
    secrets: 'inherit',
    python: DEFAULT_PYTHON,
    policy: { approval_required_for_model_deploys: false, allow_destructive: true },
    ...overrides,
  };
}

export async function createTestApp(
  kind: StoreKind = 'pglite',
  opts: { maxBodyBytes?: number; environments?: Environment[]; metricsToken?: string; authMode?: AuthMode; mcp?: AppDeps['mcp']; web?: AppDeps['web']; /** The /docs script (default: the installed Scalar bundle). */ apiReference?: ApiReferenceScript; /** Bearer JWTs, checked with the test's store. */ jwt?: (db: Db) => CredentialVerifier } & Omit<Partial<ServiceOptions>, 'environments'> = {},
): Promise<TestApp> {
  const db = await freshDb(kind);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const environments = new Map((opts.environments ?? [writeOnlyEnvironment()]).map((e) => [e.name, e]));
  // Limits off unless a test sets them: on the real clock a busy test's count would depend on timing.
  const limits = { ...NO_LIMITS, ...opts.limits };
  const services = createServices(db, { leaseSeconds: 30, pollMs: 200, logger, ...opts, limits, environments });
  const local = await ensureLocalPrincipal(db);
  await services.catalogRepo.upsert(manifests);
  const jwt = opts.jwt?.(db);
  const auth = new Authenticator({ mode: opts.authMode ?? 'local', keys: services.keys, local, ...(jwt ? { jwt } : {}) });
  const app = createApp({ domain: services.domain, logger, maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024, auth, apiReference: opts.apiReference ?? findScalarBundle(), ...(opts.mcp ? { mcp: opts.mcp } : {}), ...(opts.web ? { web: opts.web } : {}), ...(opts.metricsToken ? { metricsToken: opts.metricsToken } : {}) });
  services.worker.start();
  return {
    app,
    services,
    auth,
    db,
    logs,
    async call(method, path, body, headers = {}) {
      // As a well-behaved client: writes always say JSON (the service refuses them otherwise).
      const json = body !== undefined || ['POST', 'PUT', 'PATCH'].includes(method);
      const init: RequestInit = { method, headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...headers } };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await app.request(path, init);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    async issueKey(input) {
      const issued = await services.keys.createForIdentity({ kind: 'person', ...input });
      return { key: issued.key, orgId: issued.org_id, userId: issued.user_id };
    },
    async close() {
      await services.worker.stop();
      await services.codeRepos.idle();
      await db.close();
      await services.kv.close();
    },
  };
}
