import { serve } from '@hono/node-server';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { openDb } from '../../src/adapters/store/open-db.ts';
import { createLlm } from '../../src/agent/llm.ts';
import { createApp } from '../../src/app.ts';
import { ensureLocalPrincipal } from '../../src/auth/principal.ts';
import { loadManifests } from '../../src/catalog/load-manifests.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { createLogger } from '../../src/logger.ts';
import { createServices } from '../../src/services.ts';
import { NO_LIMITS } from '../../src/auth/limits.ts';
import { strictArguments } from '../../evals/policy.ts';
import { startScriptedLlm, type ChatRequest, type ScriptStep } from '../support/scripted-llm.ts';
import { quantile, type Row } from './measure.ts';

/*
 * The chat service's own cost per turn, over the model it relays. The scripted model runs in one
 * child process and the clients (one timing a turn, or the 1000 holding streams open) in another,
 * so this process is the service alone, as in production where the model and the browsers are
 * elsewhere; the memory figures are this process's.
 */

const MODEL_FLAG = '--chat-bench-model';
const CLIENT_FLAG = '--chat-bench-client';

type ToChild =
  | { kind: 'script'; steps: ScriptStep[] }
  | { kind: 'requests'; last: number }
  | { kind: 'turn'; url: string; id: string }
  | { kind: 'open'; url: string; ids: string[] }
  | { kind: 'await-closed' }
  | { kind: 'exit' };
type FromChild =
  | { kind: 'ready'; baseUrl: string }
  | { kind: 'ok' }
  | { kind: 'requests'; bodies: ChatRequest[] }
  | { kind: 'turn'; timing: TurnTiming }
  | { kind: 'opened'; failed: number }
  | { kind: 'closed' };

interface TurnTiming {
  ttfb: number;
  firstToken: number;
  total: number;
}

// ~1000 tokens of answer: ~4000 characters, streamed 4 at a time.
const ANSWER = Array.from({ length: 80 }, (_, i) => `Sentence ${i} of the answer says a few plain words. `).join('').slice(0, 4000);
const turnSteps = (chunkSize: number): ScriptStep[] => [
  { toolCalls: [{ name: 'search_block_types', arguments: JSON.stringify(strictArguments('search_block_types', { query: 'incremental postgres extract', limit: 5 })) }] },
  { text: ANSWER, chunkSize },
];

/** The model's process: the scripted model alone. */
async function modelChild(): Promise<void> {
  const llm = await startScriptedLlm();
  const send = (m: FromChild) => process.send!(m);
  process.on('message', async (m: ToChild) => {
    if (m.kind === 'script') {
      llm.script(m.steps);
      send({ kind: 'ok' });
    } else if (m.kind === 'requests') {
      send({ kind: 'requests', bodies: llm.requests.slice(-m.last) });
      llm.requests.length = 0;
    } else if (m.kind === 'exit') {
      await llm.close();
      process.exit(0);
    }
  });
  send({ kind: 'ready', baseUrl: llm.baseUrl });
}

const ANSWER_CHARS = ANSWER.length;

/** The body DefaultChatTransport sends for a new chat's first message. */
const chatRequest = (id: string, text: string) => JSON.stringify({ id, messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text }] }], trigger: 'submit-message' });
const decoder = new TextDecoder();

/** One POST /v1/chat read to its end: first byte, first answer token, end; checked whole. */
async function timedTurn(url: string, id: string): Promise<TurnTiming> {
  const start = performance.now();
  const res = await fetch(`${url}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chatRequest(id, 'find me a postgres block'),
  });
  if (!res.ok || !res.body) throw new Error(`chat bench: POST /v1/chat answered ${res.status}`);
  let ttfb = 0;
  let firstToken = 0;
  let body = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (!ttfb) ttfb = performance.now() - start;
    const s = decoder.decode(chunk, { stream: true });
    if (!firstToken && (body.slice(-40) + s).includes('"type":"text-delta"')) firstToken = performance.now() - start;
    body += s;
  }
  const total = performance.now() - start;
  // The service may merge deltas that arrive together; what must arrive is all of the text.
  const deltas = [...body.matchAll(/"type":"text-delta","id":"[^"]*","delta":"((?:[^"\\]|\\.)*)"/g)];
  const chars = deltas.reduce((n, m) => n + JSON.parse(`"${m[1]}"`).length, 0);
  if (deltas.length === 0 || chars < ANSWER_CHARS || !body.endsWith('data: [DONE]\n\n')) {
    throw new Error(`chat bench: the turn streamed ${chars} of ${ANSWER_CHARS} characters in ${deltas.length} text deltas and ended "${body.slice(-40)}"`);
  }
  return { ttfb, firstToken, total };
}

/** The browsers' process: one turn timed end to end, or many streams held open. */
async function clientChild(): Promise<void> {
  const open: Array<Promise<void>> = [];
  const send = (m: FromChild) => process.send!(m);
  process.on('message', async (m: ToChild) => {
    if (m.kind === 'turn') {
      send({ kind: 'turn', timing: await timedTurn(m.url, m.id) });
    } else if (m.kind === 'open') {
      let failed = 0;
      const started = m.ids.map((id) => holdStream(m.url, id));
      open.push(...started.map((s) => s.ended));
      await Promise.all(started.map((s) => s.streaming.catch(() => void failed++)));
      send({ kind: 'opened', failed });
    } else if (m.kind === 'await-closed') {
      await Promise.allSettled(open.splice(0));
      send({ kind: 'closed' });
    } else if (m.kind === 'exit') {
      process.exit(0);
    }
  });
  send({ kind: 'ready', baseUrl: '' });
}

/** One POST /v1/chat held open: `streaming` once the model's first text arrived, `ended` when the stream ends. */
export function holdStream(url: string, id: string): { streaming: Promise<void>; ended: Promise<void> } {
  let streaming!: { resolve: () => void; reject: (e: Error) => void };
  const first = new Promise<void>((resolve, reject) => (streaming = { resolve, reject }));
  const ended = new Promise<void>((resolve) => {
    const body = chatRequest(id, 'hello');
    const req = httpRequest(`${url}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) streaming.reject(new Error(`HTTP ${res.statusCode}`));
      let seen = '';
      let streamingNow = false;
      res.on('data', (chunk: Buffer) => {
        if (streamingNow) return;
        seen += chunk.toString('utf8');
        if (seen.includes('"text-delta"')) {
          streamingNow = true;
          seen = '';
          streaming.resolve();
        }
      });
      res.on('end', resolve);
      res.on('error', resolve);
    });
    req.on('error', (e) => {
      streaming.reject(e);
      resolve();
    });
    req.end(body);
  });
  return { streaming: first, ended };
}

class Child {
  private readonly proc: ChildProcess;
  private waiting: Array<(m: FromChild) => void> = [];
  baseUrl = '';

  private failed: Error | null = null;
  private rejects: Array<(e: Error) => void> = [];

  private constructor(proc: ChildProcess) {
    this.proc = proc;
    proc.on('message', (m: FromChild) => {
      this.rejects.shift();
      this.waiting.shift()?.(m);
    });
    proc.once('exit', (code) => {
      this.failed = new Error(`chat bench child exited (${code})`);
      for (const reject of this.rejects.splice(0)) reject(this.failed);
      this.waiting = [];
    });
  }

  static async start(flag: string): Promise<Child> {
    const proc = fork(fileURLToPath(import.meta.url), [flag], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const c = new Child(proc);
    const ready = await c.next();
    if (ready.kind !== 'ready') throw new Error(`chat bench: the ${flag} process did not start`);
    c.baseUrl = ready.baseUrl;
    return c;
  }

  private next(): Promise<FromChild> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.waiting.push(resolve);
      this.rejects.push(reject);
    });
  }

  async ask<K extends FromChild['kind']>(m: ToChild): Promise<Extract<FromChild, { kind: K }>> {
    const answer = this.next();
    this.proc.send(m);
    return (await answer) as Extract<FromChild, { kind: K }>;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    if (this.proc.connected) this.proc.send({ kind: 'exit' });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

/** heapUsed + external, after a full GC when --expose-gc is on, else the median of several samples. */
async function memory(): Promise<number> {
  const read = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  if (gc) {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    return read();
  }
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    samples.push(read());
    await new Promise((r) => setTimeout(r, 50));
  }
  return quantile(samples, 0.5);
}

/**
 * Per-turn overhead of POST /v1/chat (on a real socket, @hono/node-server, PGlite store) over the
 * scripted model streamed directly with the openai client (the same two upstream requests, as the
 * service sent them), alternately in the same run; then memory per open stream with 1000 turns
 * held open by a model that never finishes, beside the openai client alone holding 1000 streams.
 */
export async function chatBench(opts: { rounds?: number; streams?: number; chunkSize?: number } = {}): Promise<Row[]> {
  const [model, clients] = await Promise.all([Child.start(MODEL_FLAG), Child.start(CLIENT_FLAG)]);
  try {
    return await measureChat(model, clients, opts);
  } finally {
    await Promise.all([model.stop(), clients.stop()]);
  }
}

async function measureChat(model: Child, clients: Child, opts: { rounds?: number; streams?: number; chunkSize?: number }): Promise<Row[]> {
  const rounds = opts.rounds ?? 60;
  const streams = opts.streams ?? 1000;
  const TURN = turnSteps(opts.chunkSize ?? 4);
  const db = await openDb({});
  const workspaceDir = mkdtempSync(join(tmpdir(), 'constellation-chat-bench-ws-'));
  const logger = createLogger('silent');
  const env = { name: 'development', workspaceDir, graphqlUrl: null, secrets: 'inherit' as const, python: DEFAULT_PYTHON, policy: { approval_required_for_model_deploys: false, allow_destructive: true } };
  // The baseline is the stock openai client (the global fetch); the service uses its own (createLlm).
  const upstream = new OpenAI({ apiKey: 'bench', baseURL: model.baseUrl, maxRetries: 0 });
  const services = createServices(db, { limits: NO_LIMITS, environments: new Map([['development', env]]), logger, llm: createLlm({ apiKey: 'bench', baseURL: model.baseUrl, model: 'scripted', maxRetries: 0 }) });
  const principal = await ensureLocalPrincipal(db);
  await services.catalogRepo.upsert(loadManifests());
  const app = createApp({ domain: services.domain, logger, maxBodyBytes: 1024 * 1024, principal });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let chats = 0;

  /** One turn through the service, timed by a client in its own process. */
  const serviceTurn = async () => {
    await model.ask({ kind: 'script', steps: TURN });
    return (await clients.ask<'turn'>({ kind: 'turn', url, id: `bench-${++chats}` })).timing;
  };

  /** The same two upstream requests, straight to the scripted model with the openai client. */
  let bodies: ChatRequest[] = [];
  const directTurn = async () => {
    await model.ask({ kind: 'script', steps: TURN });
    const start = performance.now();
    let ttfb = 0;
    let firstToken = 0;
    for (const [i, body] of bodies.entries()) {
      const stream = await upstream.chat.completions.create({ ...(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming), stream: true });
      for await (const chunk of stream) {
        if (!ttfb) ttfb = performance.now() - start;
        if (i === 1 && !firstToken && chunk.choices[0]?.delta?.content) firstToken = performance.now() - start;
      }
    }
    return { ttfb, firstToken, total: performance.now() - start };
  };

  try {
    // Warm up, and capture the two requests the service makes for a turn.
    for (let i = 0; i < 10; i++) await serviceTurn();
    await serviceTurn();
    bodies = (await model.ask<'requests'>({ kind: 'requests', last: 2 })).bodies;
    if (bodies.length !== 2 || !bodies[1]!.messages.some((m) => m.role === 'tool')) throw new Error('chat bench: did not capture the two upstream requests');
    for (let i = 0; i < 10; i++) await directTurn();

    const ours: Array<Awaited<ReturnType<typeof serviceTurn>>> = [];
    const direct: Array<Awaited<ReturnType<typeof directTurn>>> = [];
    for (let i = 0; i < rounds; i++) {
      ours.push(await serviceTurn());
      direct.push(await directTurn());
    }
    const p50 = (xs: TurnTiming[], k: keyof TurnTiming) => quantile(xs.map((x) => x[k]), 0.5);

    // Memory: the openai client alone holding `streams` upstream streams (the floor)...
    const hang: ScriptStep[] = Array.from({ length: streams }, () => ({ hang: true, text: 'x' }));
    const floorRound = async () => {
      await model.ask({ kind: 'script', steps: hang });
      const aborts = Array.from({ length: streams }, () => new AbortController());
      const before = await memory();
      const held = await Promise.all(
        aborts.map(async (a) => {
          const stream = await upstream.chat.completions.create({ ...(bodies[0] as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming), stream: true }, { signal: a.signal });
          const it = stream[Symbol.asyncIterator]();
          await it.next();
          return it;
        }),
      );
      const kb = ((await memory()) - before) / streams / 1024;
      for (const a of aborts) a.abort();
      await Promise.allSettled(held.map((it) => it.return?.()));
      return kb;
    };
    // ...and the service holding as many chat turns and their streams, the clients elsewhere.
    let round = 0;
    const serviceRound = async () => {
      await model.ask({ kind: 'script', steps: hang });
      const ids = Array.from({ length: streams }, (_, i) => `held-${round}-${i}`);
      round++;
      const before = await memory();
      const opened = await clients.ask<'opened'>({ kind: 'open', url, ids });
      if (opened.failed) throw new Error(`chat bench: ${opened.failed} of ${streams} streams did not open`);
      const kb = ((await memory()) - before) / streams / 1024;
      for (let i = 0; i < ids.length; i += 100) {
        const stopped = await Promise.all(ids.slice(i, i + 100).map(async (id) => (await app.request(`/v1/chat/${id}/stop`, { method: 'POST', headers: { 'content-type': 'application/json' } })).json() as Promise<{ stopped: boolean }>));
        if (stopped.some((x) => !x.stopped)) throw new Error('chat bench: a held turn was not running when stopped');
      }
      await clients.ask({ kind: 'await-closed' });
      return kb;
    };
    // The first round of each allocates what is kept and reused afterwards (connection pools,
    // store pages): the second measures what one more open stream costs.
    await floorRound();
    const floorKb = await floorRound();
    await serviceRound();
    const perStreamKb = await serviceRound();

    const baseline = 'scripted model streamed directly (openai client, same 2 requests)';
    const turn = 'chat turn: 1 tool call + ~1000-token answer, POST /v1/chat on a socket';
    return [
      { measure: `${turn}, time to first byte p50`, value: p50(ours, 'ttfb'), baseline: `${baseline}, first byte p50`, baselineValue: p50(direct, 'ttfb'), ratio: 'difference', target: '< +5 ms' },
      { measure: `${turn}, first answer token p50`, value: p50(ours, 'firstToken'), baseline: `${baseline}, first content token p50`, baselineValue: p50(direct, 'firstToken'), ratio: 'difference', target: '(diagnostic)' },
      { measure: `${turn}, total p50`, value: p50(ours, 'total'), baseline: `${baseline}, total p50`, baselineValue: p50(direct, 'total'), ratio: 'difference', target: '< +5 ms' },
      { measure: `memory per open chat stream, ${streams} concurrent turns (model hanging)${gc ? '' : ' (no --expose-gc: median samples)'}`, unit: 'KB', value: perStreamKb, baseline: `openai client alone, ${streams} open upstream streams`, baselineValue: floorKb, ratio: 'times', target: '< 50 KB' },
    ];
  } finally {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.close();
    rmSync(workspaceDir, { recursive: true, force: true });
  }
}

if (process.argv.includes(MODEL_FLAG) && process.send) void modelChild();
if (process.argv.includes(CLIENT_FLAG) && process.send) void clientChild();
