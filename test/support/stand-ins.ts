import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request a stand-in received: method, path with query, and the parsed JSON body (null without one). */
export interface Received {
  method: string;
  path: string;
  body: unknown;
}

type Handler = (req: Received) => { status?: number; json: unknown } | null;

/** A local HTTP server that answers JSON by `handle` (404 where it returns null) and keeps every request. */
export interface StandIn {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * Serves the few endpoints of a vendor's API that its client library calls, on a free loopback
 * port, for tests of blocks whose real server cannot run here (DataHub, Airbyte, GitHub). What a
 * block sends is what the test asserts on, so every request is kept.
 */
export async function startStandIn(handle: Handler): Promise<StandIn> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const request = { method: req.method ?? 'GET', path: req.url ?? '/', body };
      received.push(request);
      const answer = handle(request);
      res.writeHead(answer?.status ?? (answer ? 200 : 404), { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer ? answer.json : { message: `no stand-in for ${request.method} ${request.path}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * DataHub's GMS as acryl-datahub's REST emitter sees it: `GET /config` (the emitter's connection
 * test wants "noCode": "true"), and `POST /aspects?action=ingestProposal` / `ingestProposalBatch`,
 * whose proposals `proposals()` reads back with each aspect's JSON value parsed.
 */
export async function startDataHubGms(): Promise<StandIn & { proposals(): Array<{ entityUrn: string; aspectName: string; aspect: unknown }> }> {
  const standIn = await startStandIn((req) => {
    if (req.method === 'GET' && req.path.startsWith('/config')) return { json: { noCode: 'true', versions: { acryldata: { version: 'v1.7.0' } } } };
    if (req.method === 'POST' && req.path.startsWith('/aspects?action=ingestProposal')) return { json: { value: 'ok' } };
    return null;
  });
  const proposals = () =>
    standIn.received.flatMap((r) => {
      if (r.method !== 'POST' || !r.path.startsWith('/aspects?action=ingestProposal')) return [];
      const body = r.body as { proposal?: Proposal; proposals?: Proposal[] };
      return [...(body.proposal ? [body.proposal] : []), ...(body.proposals ?? [])].map((p) => ({
        entityUrn: p.entityUrn,
        aspectName: p.aspectName,
        aspect: typeof p.aspect?.value === 'string' ? JSON.parse(p.aspect.value) : p.aspect?.value,
      }));
    });
  return Object.assign(standIn, { proposals });
}

interface Proposal {
  entityUrn: string;
  aspectName: string;
  aspect?: { value?: unknown };
}

/** GitHub's `GET /repos/{owner}/{repo}/releases`, answering with `releases` (newest first, as GitHub does), which a test may grow. */
export async function startGitHubReleases(releases: Array<{ id: number; tag_name: string; prerelease?: boolean }>): Promise<StandIn> {
  return startStandIn((req) => {
    if (req.method === 'GET' && /^\/repos\/[^/]+\/[^/]+\/releases(\?|$)/.test(req.path)) {
      return { json: [...releases].sort((a, b) => b.id - a.id).map((r) => ({ prerelease: false, draft: false, ...r, name: r.tag_name })) };
    }
    return null;
  });
}

/** A JSON API of `items` under `GET /<resource>`, one page, for dlt's rest_api source. */
export async function startJsonApi(resources: Record<string, unknown[]>): Promise<StandIn> {
  return startStandIn((req) => {
    const name = req.path.split('?')[0]!.replace(/^\/+/, '');
    return req.method === 'GET' && name in resources ? { json: resources[name] } : null;
  });
}

/**
 * Airbyte's Configuration API (`/api/v1`) as dagster-airbyte's `AirbyteResource` calls it:
 * `connections/get`, `connections/sync` (starts job 1, 2, ...), `jobs/list` and `jobs/get` (each
 * poll moves a job one step through `statuses`, staying at the last), `jobs/cancel`. Same endpoints
 * as blocks/python/tests/stand_ins.py AirbyteApi.
 */
export async function startAirbyte(connectionId: string, statuses: string[] = ['running', 'succeeded'], streams: string[] = ['issues']): Promise<StandIn & { syncs(): number }> {
  const polls = new Map<number, number>();
  const job = (id: number, poll: boolean) => {
    const n = (polls.get(id) ?? 0) + (poll ? 1 : 0);
    polls.set(id, n);
    const status = n === 0 ? 'pending' : statuses[Math.min(n, statuses.length) - 1];
    return { job: { id, configType: 'sync', configId: connectionId, status }, attempts: [] };
  };
  const standIn = await startStandIn((req) => {
    if (req.method !== 'POST' || !req.path.startsWith('/api/v1/')) return null;
    const endpoint = req.path.slice('/api/v1/'.length);
    const body = (req.body ?? {}) as { connectionId?: string; configId?: string; id?: number };
    if ((endpoint === 'connections/get' || endpoint === 'connections/sync') && body.connectionId !== connectionId) return { status: 404, json: { message: `connection ${body.connectionId} not found` } };
    if (endpoint === 'connections/get') {
      return { json: { connectionId, name: 'stand-in connection', status: 'active', syncCatalog: { streams: streams.map((name) => ({ stream: { name }, config: { selected: true } })) } } };
    }
    if (endpoint === 'connections/sync') return { json: job(polls.size + 1, false) };
    if (endpoint === 'jobs/get' && body.id !== undefined && polls.has(body.id)) return { json: job(body.id, true) };
    if (endpoint === 'jobs/list' && body.configId === connectionId && polls.size > 0) return { json: { jobs: [job(polls.size, true)] } };
    if (endpoint === 'jobs/cancel' && body.id !== undefined && polls.has(body.id)) return { json: { job: { id: body.id, status: 'cancelled' }, attempts: [] } };
    return null;
  });
  return Object.assign(standIn, { syncs: () => polls.size });
}
