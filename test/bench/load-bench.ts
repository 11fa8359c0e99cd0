import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagshipSpec } from '../compile/fixtures.ts';
import { startPostgres } from '../support/postgres-server.ts';
import { startRedis } from '../support/redis-server.ts';
import { startInstance, startInstances, type ServiceInstance } from '../support/service-instances.ts';
import { runLoad, type LoadResult, type RequestKind } from './load-clients.ts';
import { startLoadModel } from './load-model.ts';
import { quantile, type Row } from './measure.ts';
import { memoryPerOpenStream } from './open-stream-memory.ts';

/*
 * The service as it runs at scale, on loopback: real service processes (node src/server.ts) on one
 * throwaway Postgres and one redis-server, a scripted model in a process of its own. Throughput and
 * p99 of 200 clients mixing block search, pipeline reads and short chat turns against two instances,
 * beside the same load against one; then memory per open chat stream with Redis beside the memory KV.
 *
 * LOAD_BENCH_SECONDS (default 30) is the length of each measured run, LOAD_BENCH_CLIENTS (200) the
 * clients, LOAD_BENCH_STREAMS (200) the streams held open.
 */

export interface LoadBenchResult {
  rows: Row[];
  /** Set when any request failed: the bench must not pass on figures that include errors. */
  failure: string | null;
}

const positive = (name: string, fallback: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number above 0 (got "${raw}")`);
  return n;
};

// High enough that no run reaches them, so the limits still count (in Redis) as they do in production.
const RAISED_LIMITS = {
  RATE_LIMIT_CHAT_TURNS_PER_MINUTE: '100000000',
  RATE_LIMIT_TOOL_CALLS_PER_MINUTE: '100000000',
  RATE_LIMIT_DEPLOYS_PER_MINUTE: '100000000',
  CHAT_DAILY_TOKEN_BUDGET: '100000000000',
};

export async function loadBench(): Promise<LoadBenchResult> {
  const seconds = positive('LOAD_BENCH_SECONDS', 30);
  const clients = positive('LOAD_BENCH_CLIENTS', 200);
  const streams = positive('LOAD_BENCH_STREAMS', 200);
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const [postgres, redis, model] = await Promise.all([startPostgres(), startRedis(), startLoadModel()]);
    cleanups.push(() => postgres.stop(), () => redis.stop(), () => model.stop());
    const heapDir = mkdtempSync(join(tmpdir(), 'constellation-load-bench-heap-'));
    cleanups.push(() => rmSync(heapDir, { recursive: true, force: true }));
    const env = {
      OPENAI_API_KEY: 'bench',
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_MODEL: 'scripted',
      ...RAISED_LIMITS,
      // A log line per request would be the loudest thing measured.
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: `--expose-gc --import=${join(import.meta.dirname, 'heap-probe.ts')}`,
      BENCH_HEAP_DIR: heapDir,
    };
    const options = { databaseUrl: postgres.url, redisUrl: redis.url, env };
    const instances = await startInstances(2, options);
    cleanups.push(() => Promise.all(instances.map((i) => i.stop())).then(() => undefined));
    const [a, b] = instances as [ServiceInstance, ServiceInstance];

    const pipelineIds = await createPipelines(a.url, 20);
    const load = (urls: string[], durationMs: number, name: string) => runLoad({ urls, clients, durationMs, pipelineIds, chatPrefix: `load-${name}` });
    // Each run after a warm-up on the same instances: the JIT, the pools and the catalog's caches warm.
    const warmMs = Math.min(5_000, seconds * 200);
    const warmOne = await load([a.url], warmMs, 'warm-1');
    const one = await load([a.url], seconds * 1000, 'one');
    const warmTwo = await load([a.url, b.url], warmMs, 'warm-2');
    const two = await load([a.url, b.url], seconds * 1000, 'two');
    const runs = [warmOne, one, warmTwo, two];
    const errors = runs.reduce((n, r) => n + r.errors, 0);

    // Memory: one instance on Redis (a), one on the memory KV, the second load instance stopped.
    await b.stop();
    const memoryKv = await startInstance(2, { ...options, env: { ...env, REDIS_URL: '' } });
    cleanups.push(() => memoryKv.stop());
    await model.setMode('hang');
    // The first round of each allocates what is kept and reused afterwards (pools, caches); the second is the figure.
    await memoryPerOpenStream(a, heapDir, streams);
    await memoryPerOpenStream(memoryKv, heapDir, streams);
    const redisKb = await memoryPerOpenStream(a, heapDir, streams);
    const memoryKb = await memoryPerOpenStream(memoryKv, heapDir, streams);

    const what = `${clients} clients (search/pipeline reads/chat turns 45/40/15), ${seconds} s`;
    const rps = (r: LoadResult) => (1000 * count(r)) / r.wallMs;
    const p99 = (r: LoadResult, kinds: RequestKind[] = ['search', 'pipeline', 'chat']) => quantile(kinds.flatMap((k) => r.latencies[k]), 0.99);
    const rows: Row[] = [
      { measure: `load: 2 instances round-robin, ${what}`, unit: 'rps', value: rps(two), baseline: 'same load, 1 instance', baselineValue: rps(one), ratio: 'times', target: '(diagnostic: 2 cores)' },
      { measure: 'load: 2 instances, p99 all requests', value: p99(two), baseline: '1 instance, p99 all requests', baselineValue: p99(one), ratio: 'times', target: '(diagnostic)' },
      { measure: 'load: 2 instances, p99 GET /v1/block-types?q=', value: p99(two, ['search']), baseline: '1 instance, p99 block search', baselineValue: p99(one, ['search']), ratio: 'times', target: '(diagnostic)' },
      { measure: 'load: 2 instances, p99 GET /v1/pipelines/{id}', value: p99(two, ['pipeline']), baseline: '1 instance, p99 pipeline read', baselineValue: p99(one, ['pipeline']), ratio: 'times', target: '(diagnostic)' },
      { measure: 'load: 2 instances, p99 chat turn (search + answer, SSE read to its end)', value: p99(two, ['chat']), baseline: '1 instance, p99 chat turn', baselineValue: p99(one, ['chat']), ratio: 'times', target: '(diagnostic)' },
      { measure: `load: errors in all runs (${runs.reduce((n, r) => n + count(r), 0)} answers checked)`, unit: 'count', value: errors, baseline: 'required', baselineValue: 0, ratio: 'difference', target: '0' },
      { measure: `memory per open chat stream, ${streams} held open, REDIS_URL (turn log in Redis)`, unit: 'KB', value: redisKb, baseline: `memory KV, ${streams} held open`, baselineValue: memoryKb, ratio: 'times', target: '< 50 KB' },
    ];
    const samples = [...new Set(runs.flatMap((r) => r.errorSamples))].slice(0, 5);
    const failure = errors === 0 ? null : `load bench: ${errors} requests failed (errors must be 0); what went wrong, first:\n  ${samples.join('\n  ')}`;
    return { rows, failure };
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((e: unknown) => process.stderr.write(`load bench cleanup: ${String(e)}\n`));
  }
}

const count = (r: LoadResult) => r.latencies.search.length + r.latencies.pipeline.length + r.latencies.chat.length;

/** `n` pipelines (the flagship, named apart) for the reads; their ids. */
async function createPipelines(url: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...flagshipSpec(), name: `Load bench pipeline ${i}` }) });
    const body = (await res.json()) as { id?: string };
    if (res.status !== 201 || !body.id) throw new Error(`load bench: creating a pipeline answered ${res.status}: ${JSON.stringify(body)}`);
    ids.push(body.id);
  }
  return ids;
}
