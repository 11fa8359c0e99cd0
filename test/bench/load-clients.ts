import { Agent, request } from 'node:http';
import { SHORT_ANSWER } from './load-model.ts';

/*
 * The load generator: `clients` concurrent clients, each sending one request after another until
 * the time is up, each request to the next instance in turn (a round-robin balancer in the client:
 * loopback only, no proxy between). A mix of block search, pipeline reads and short chat turns read
 * to their end. Every answer is checked; anything unexpected counts as an error and is kept as a sample.
 */

export type RequestKind = 'search' | 'pipeline' | 'chat';

export interface LoadOptions {
  urls: string[];
  clients: number;
  durationMs: number;
  pipelineIds: string[];
  /** Chat ids start with this, so runs never reuse one. */
  chatPrefix: string;
  /** Relative weights of the three kinds. */
  mix?: Record<RequestKind, number>;
}

export interface LoadResult {
  wallMs: number;
  latencies: Record<RequestKind, number[]>;
  errors: number;
  /** The first few errors, to say what went wrong. */
  errorSamples: string[];
}

const DEFAULT_MIX: Record<RequestKind, number> = { search: 45, pipeline: 40, chat: 15 };
const QUERIES = ['postgres', 'clickhouse load', 'incremental extract', 's3 csv files', 'duckdb', 'file arrival sensor', 'dbt models', 'data quality'];

interface Answer {
  status: number;
  body: string;
}

/** One request on a keep-alive agent, its whole body read. */
function call(agent: Agent, url: string, method: 'GET' | 'POST', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What is wrong with an answer, or null when it is what that kind of request must get. */
function problem(kind: RequestKind, answer: Answer, expected: string): string | null {
  if (answer.status !== 200) return `HTTP ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (kind === 'search') {
    const results = (JSON.parse(answer.body) as { results?: unknown[] }).results;
    return Array.isArray(results) && results.length > 0 ? null : `no search results: ${answer.body.slice(0, 300)}`;
  }
  if (kind === 'pipeline') return (JSON.parse(answer.body) as { id?: string }).id === expected ? null : `another pipeline: ${answer.body.slice(0, 300)}`;
  // A chat turn: the whole answer streamed, no error chunk, and the stream's end.
  const text = [...answer.body.matchAll(/"type":"text-delta","id":"[^"]*","delta":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string).join('');
  if (answer.body.includes('"type":"error"')) return `error chunk: ${answer.body.slice(answer.body.indexOf('"type":"error"'), answer.body.indexOf('"type":"error"') + 300)}`;
  if (!text.includes(SHORT_ANSWER) || !answer.body.endsWith('data: [DONE]\n\n')) return `incomplete turn (${text.length} characters): …${answer.body.slice(-200)}`;
  return null;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const mix = opts.mix ?? DEFAULT_MIX;
  const total = mix.search + mix.pipeline + mix.chat;
  // One agent per instance, as many sockets as clients: no request waits for a free connection.
  const agents = opts.urls.map(() => new Agent({ keepAlive: true, maxSockets: opts.clients }));
  const latencies: Record<RequestKind, number[]> = { search: [], pipeline: [], chat: [] };
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  let sent = 0;
  const deadline = performance.now() + opts.durationMs;

  const one = async (client: number) => {
    const target = next++ % opts.urls.length;
    const url = opts.urls[target]!;
    const agent = agents[target]!;
    const n = sent++;
    const roll = ((n * 7919) % total) + 0.5; // spread evenly, not in runs of one kind
    const kind: RequestKind = roll < mix.search ? 'search' : roll < mix.search + mix.pipeline ? 'pipeline' : 'chat';
    const pipelineId = opts.pipelineIds[n % opts.pipelineIds.length]!;
    const chatBody = JSON.stringify({ id: `${opts.chatPrefix}-${client}-${n}`, messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'which block reads postgres?' }] }], trigger: 'submit-message' });
    const start = performance.now();
    try {
      const answer =
        kind === 'search'
          ? await call(agent, `${url}/v1/block-types?q=${encodeURIComponent(QUERIES[n % QUERIES.length]!)}`, 'GET')
          : kind === 'pipeline'
            ? await call(agent, `${url}/v1/pipelines/${pipelineId}`, 'GET')
            : await call(agent, `${url}/v1/chat`, 'POST', chatBody);
      const ms = performance.now() - start;
      const wrong = problem(kind, answer, pipelineId);
      if (wrong) throw new Error(wrong);
      latencies[kind].push(ms);
    } catch (error) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(`${kind} on ${url}: ${(error as Error).message}`);
    }
  };

  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.clients }, async (_, client) => {
      while (performance.now() < deadline) await one(client);
    }),
  );
  const wallMs = performance.now() - started;
  for (const agent of agents) agent.destroy();
  return { wallMs, latencies, errors, errorSamples };
}
