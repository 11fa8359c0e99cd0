import { Writable } from 'node:stream';
import type { Db } from '../../src/adapters/store/db.ts';
import { createApp } from '../../src/app.ts';
import { ensureLocalPrincipal } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { createLogger } from '../../src/logger.ts';
import { createServices, type Services } from '../../src/services.ts';
import { freshDb, type StoreKind } from './databases.ts';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  services: Services;
  db: Db;
  /** Log lines the app wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** JSON request helper: `call('POST', '/v1/blocks', body)` → { status, body }. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

const manifests = loadManifests();

/** The real app over a fresh real store with the built-in catalog loaded. */
export async function createTestApp(kind: StoreKind = 'pglite', opts: { maxBodyBytes?: number } = {}): Promise<TestApp> {
  const db = await freshDb(kind);
  const services = createServices(db);
  await ensureLocalPrincipal(db);
  await services.catalogRepo.upsert(manifests);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const app = createApp({ services, logger: createLogger('debug', sink), maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024 });
  return {
    app,
    services,
    db,
    logs,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await app.request(path, init);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    close: () => db.close(),
  };
}
