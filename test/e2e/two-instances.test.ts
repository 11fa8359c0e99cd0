import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from 'ai';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { TURN_ABANDONED } from '../../src/chat/turn-log.ts';
import { readTurn, textOf, until, user } from '../chat/helpers.ts';
import { oneBlockSpec } from '../compile/fixtures.ts';
import { freshDbUrl } from '../support/databases.ts';
import type { DagsterServer } from '../support/dagster-server.ts';
import { startScriptedLlm, type ScriptedLlm } from '../support/scripted-llm.ts';
import { startInstance, startInstances, type InstancesOptions, type ServiceInstance } from '../support/service-instances.ts';
import { e2eFolder, startDagsterFor } from './platform.ts';

// Two real service processes on one Postgres and one Redis, as behind a load balancer: what one
// instance started, the other reads, stops, waits for or takes over.

const LEASE_SECONDS = 3;
/** A chat turn's lease: how long a turn whose instance died keeps its chat. */
const TURN_LEASE_SECONDS = 2;
const WORKSPACE_LOCK = 'constellation:workspace:development';

describe('two service instances that act as one (one Postgres, one Redis)', () => {
  const folder = e2eFolder('constellation-two-instances-');
  const workspaceDir = join(folder.dir, 'workspace');
  let dagster: DagsterServer;
  let llm: ScriptedLlm;
  let options: InstancesOptions;
  let a: ServiceInstance;
  let b: ServiceInstance;
  let db: pg.Client;
  let redis: Redis;
  const extra: ServiceInstance[] = [];
  /** The instance still running after one was killed mid-deploy. */
  let survivor: ServiceInstance;

  beforeAll(async () => {
    const [started, scripted, databaseUrl] = await Promise.all([startDagsterFor(folder.dir, {}), startScriptedLlm({ tokenDelayMs: 40 }), freshDbUrl()]);
    dagster = started.dagster;
    llm = scripted;
    const environments = join(folder.dir, 'environments.yaml');
    writeFileSync(environments, stringify({ environments: { development: { workspace_dir: workspaceDir, graphql_url: dagster.graphqlUrl } } }));
    options = {
      databaseUrl,
      redisUrl: inject('redisUrl'),
      env: { DAGSTER_ENVIRONMENTS: environments, DEPLOY_LEASE_SECONDS: String(LEASE_SECONDS), CHAT_TURN_LEASE_SECONDS: String(TURN_LEASE_SECONDS), OPENAI_API_KEY: 'test', OPENAI_BASE_URL: llm.baseUrl, OPENAI_MODEL: 'scripted' },
    };
    [a, b] = (await startInstances(2, options)) as [ServiceInstance, ServiceInstance];
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    redis = new Redis(inject('redisUrl'));
  });

  afterAll(async () => {
    await Promise.all([a, b, ...extra].map((i) => i?.stop()));
    await db?.end();
    redis?.disconnect();
    await llm?.close();
    await dagster?.stop();
    folder.remove();
  });

  const chatTransport = (instance: ServiceInstance) => new DefaultChatTransport<UIMessage>({ api: `${instance.url}/v1/chat` });

  /** The turn's chunks as its log in Redis holds them (what any instance replays). */
  async function turnLog(chatId: string): Promise<UIMessageChunk[]> {
    const turnId = await redis.get(`constellation:chat:${chatId}:turn`);
    const entries = await redis.xrange(`constellation:turn:${turnId}:chunks`, '-', '+');
    return entries.map(([, fields]) => JSON.parse(fields[1]!) as UIMessageChunk);
  }

  it('a turn started on A is resumed from B after the connection to A drops: every chunk once, in order', async () => {
    const answer = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    // About 70 deltas 40 ms apart: the turn runs for some 3 s, long after the client drops.
    llm.script([{ text: answer, chunkSize: 3 }]);
    const chatId = `two-${randomUUID()}`;
    const dropped = new AbortController();
    const onA = await chatTransport(a).sendMessages({ chatId, messages: [user('u1', 'tell me slowly')], trigger: 'submit-message', messageId: undefined, abortSignal: dropped.signal });
    // The client reads a few chunks from A, then its connection drops.
    let seen = 0;
    const beforeDrop = await readTurn(
      onA.pipeThrough(
        new TransformStream<UIMessageChunk, UIMessageChunk>({
          transform(chunk, controller) {
            controller.enqueue(chunk);
            if (chunk.type === 'text-delta' && ++seen === 5) dropped.abort();
          },
        }),
      ),
    );
    expect(beforeDrop.chunks.filter((c) => c.type === 'text-delta').length).toBeGreaterThanOrEqual(1);
    expect(beforeDrop.chunks.at(-1)?.type).not.toBe('finish');

    // useChat's resume: the ai package's transport asks B for the running turn, replayed from its start, then live.
    const fromStart = chatTransport(b).reconnectToStream({ chatId });
    // A client that kept the last event id it saw asks only for what follows it.
    const afterLast = fetch(`${b.url}/v1/chat/${chatId}/stream`, { headers: { 'last-event-id': String(beforeDrop.chunks.length - 1) } });
    const resumed = await fromStart;
    expect(resumed, 'the turn was over before the client came back: nothing was read live').not.toBeNull();
    const [whole, rest] = await Promise.all([readTurn(resumed!), afterLast.then(async (r) => (expect(r.status).toBe(200), sseEvents(await r.text())))]);

    const log = await turnLog(chatId);
    expect(log.at(-1)).toEqual({ type: 'finish' });
    expect(whole.error).toBeUndefined();
    expect(whole.chunks).toEqual(log);
    expect(textOf(whole.message)).toBe(answer);
    // What A delivered, then what B delivered after it: the log, with nothing lost or twice.
    expect(rest.map((e) => e.id)).toEqual(log.slice(beforeDrop.chunks.length).map((_, i) => beforeDrop.chunks.length + i));
    expect([...beforeDrop.chunks, ...rest.map((e) => e.data)]).toEqual(log);
    // The turn ran to its end on A with nobody connected to it, and its message is stored for all.
    const stored = (await (await fetch(`${b.url}/v1/chats/${chatId}`)).json()) as { messages: UIMessage[] };
    expect(stored.messages.map((m) => [m.role, textOf(m)])).toEqual([
      ['user', 'tell me slowly'],
      ['assistant', answer],
    ]);
  });

  it('a stop sent to B stops the turn running on A', async () => {
    llm.script([{ hang: true, text: 'Thinking' }]);
    const chatId = `two-${randomUUID()}`;
    const asked = llm.requests.length;
    const turn = readTurn(await chatTransport(a).sendMessages({ chatId, messages: [user('u1', 'think forever')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }));
    await until(() => llm.requests.length === asked + 1, 'the turn on A to ask the model');
    const aborted = llm.aborted;

    const stop = await post(b, `/v1/chat/${chatId}/stop`, {});
    expect(await stop.json()).toEqual({ stopped: true });

    const read = await turn;
    expect(textOf(read.message)).toBe('Thinking');
    expect(read.chunks.at(-1)).toMatchObject({ type: 'abort' });
    // A's model request was cut, not left to run.
    await until(() => llm.aborted === aborted + 1, 'the model request on A to be aborted');
    // The chat is free again, on either instance.
    await until(async () => (await fetch(`${b.url}/v1/chat/${chatId}/stream`)).status === 204, 'the turn to be over');
    expect(await (await post(a, `/v1/chat/${chatId}/stop`, {})).json()).toEqual({ stopped: false });
  });

  let pipelineId: string;
  /** The deployments of the pipeline, oldest first, as their rows say. */
  const deployments = async () =>
    (await db.query('SELECT id, version, status, attempts, lease_owner, lease_expires_at, created_at, finished_at, error FROM deployments WHERE pipeline_id = $1 ORDER BY created_at, id', [pipelineId])).rows;
  const deploy = async (instance: ServiceInstance, version: number) => {
    const response = await post(instance, `/v1/pipelines/${pipelineId}/deployments`, { environment: 'development', version });
    const body = (await response.json()) as { id: string };
    expect(response.status, JSON.stringify(body)).toBe(202);
    return body.id;
  };
  const settled = (ids: string[]) =>
    until(async () => (await deployments()).filter((d) => ids.includes(d.id)).every((d) => !['pending', 'in_progress'].includes(d.status)), 'the deployments to settle', 180_000);

  it('a turn whose instance is killed: its reader on B gets an error saying to send again, and B takes the next message', async () => {
    const c = await startInstance(3, options);
    extra.push(c);
    llm.script([{ hang: true, text: 'Thinking' }]);
    const chatId = `two-${randomUUID()}`;
    const asked = llm.requests.length;
    await chatTransport(c).sendMessages({ chatId, messages: [user('u1', 'think forever')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined });
    await until(() => llm.requests.length === asked + 1, 'the turn on C to ask the model');
    // useChat's resume through B, following the turn live.
    const following = await chatTransport(b).reconnectToStream({ chatId });
    expect(following).not.toBeNull();
    const followed = readTurn(following!);

    await c.kill('SIGKILL');
    // Nobody renews the turn's lease now: once it runs out, B ends the turn for its reader.
    const read = await followed;
    expect(read.chunks.at(-1)).toEqual({ type: 'error', errorText: TURN_ABANDONED });
    expect(read.chunks.filter((chunk) => chunk.type === 'error')).toHaveLength(1);

    // And the chat is free: the next message, through B, is answered (not 409 until the log's TTL).
    llm.script([{ text: 'Here now.' }]);
    const next = await readTurn(await chatTransport(b).sendMessages({ chatId, messages: [user('u1', 'think forever'), user('u2', 'are you there?')], trigger: 'submit-message', messageId: undefined, abortSignal: undefined }));
    expect(next.error).toBeUndefined();
    expect(textOf(next.message)).toBe('Here now.');
    const stored = (await (await fetch(`${b.url}/v1/chats/${chatId}`)).json()) as { messages: UIMessage[] };
    expect(stored.messages.filter((m) => m.role === 'user').map(textOf)).toEqual(['think forever', 'are you there?']);
  });

  it('two concurrent deploys of one pipeline through A and B run one after the other; the later one is live', async () => {
    const created = await post(a, '/v1/pipelines', oneBlockSpec('two instances'));
    pipelineId = ((await created.json()) as { id: string }).id;
    expect(created.status).toBe(201);
    const v2 = await fetch(`${b.url}/v1/pipelines/${pipelineId}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: { ...oneBlockSpec('two instances'), description: 'version 2' } }) });
    expect(v2.status, await v2.clone().text()).toBe(200);

    const ids = await Promise.all([deploy(a, 1), deploy(b, 2)]);
    await settled(ids);
    const [first, second] = await deployments();
    expect([first.status, second.status], JSON.stringify([first, second])).toEqual(['deployed', 'deployed']);
    // The later one was taken up only once the earlier one had finished: its worker's "deploying"
    // comes after the earlier row's finished_at (one clock: Postgres and both processes share the machine).
    const started = deployingAt([a, b], second.id);
    expect(started.length).toBe(1);
    expect(started[0]!).toBeGreaterThanOrEqual(first.finished_at.getTime());
    // The later request is what is in place.
    expect(locationVersion(workspaceDir, pipelineId)).toBe(second.version);
    expect(await locationLoaded(dagster)).toBe(true);
  });

  it('an instance killed mid-deploy leaves the previous location in place; the other takes the lease over after it expires', async () => {
    const live = locationVersion(workspaceDir, pipelineId);
    const next = 3;
    const v3 = await fetch(`${a.url}/v1/pipelines/${pipelineId}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: { ...oneBlockSpec('two instances'), description: 'version 3' } }) });
    expect(v3.status).toBe(200);

    // Another change holds the workspace lock: the deploy is claimed and then waits there (as it
    // would behind a long deploy of another pipeline), its lease renewed while it waits.
    const holder = new pg.Client({ connectionString: options.databaseUrl });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hashtext($1))', [WORKSPACE_LOCK]);
    try {
      const id = await deploy(a, next);
      await until(async () => (await deployments()).find((d) => d.id === id)?.status === 'in_progress', 'the deploy to be claimed', 30_000);
      await until(async () => (await db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rowCount! > 0, 'the deploy to wait for the workspace lock', 30_000);
      // Whichever instance claimed it (a request kicks its own worker, but the other polls too) is killed.
      const owner = [a, b].find((i) => deployingAt([i], id).length > 0)!;
      const other = owner === a ? b : a;
      await owner.kill('SIGKILL');
      const stranded = (await deployments()).find((d) => d.id === id);
      expect(stranded).toMatchObject({ status: 'in_progress', attempts: 1 });

      // The previous version stays in place, on disk and in Dagster.
      expect(locationVersion(workspaceDir, pipelineId)).toBe(live);
      expect(await locationLoaded(dagster)).toBe(true);
      await holder.query('COMMIT');

      await settled([id]);
      const finished = (await deployments()).find((d) => d.id === id);
      expect(finished, other.logs()).toMatchObject({ status: 'deployed', attempts: 2, lease_owner: null });
      // Taken over only once the dead instance's lease had run out.
      const resumed = deployingAt([other], id);
      expect(resumed.length).toBe(1);
      expect(resumed[0]!).toBeGreaterThanOrEqual(stranded.lease_expires_at.getTime());
      expect(locationVersion(workspaceDir, pipelineId)).toBe(next);
      expect(await locationLoaded(dagster)).toBe(true);
      survivor = other;
    } finally {
      await holder.end();
    }
  });

  it('MCP: a session lives in the instance that opened it; elsewhere its id answers 404 and the client starts a new one', async () => {
    // A third instance, for the client to lose; the survivor stays.
    const c = await startInstance(2, options);
    extra.push(c);
    // The load balancer: requests go to whichever instance `target` names (not sticky on Mcp-Session-Id, so it fails over).
    let target = c;
    const balanced = 'http://balancer.invalid';
    const viaBalancer: typeof fetch = (url, init) => fetch(String(url).replace(balanced, target.url), init);
    const connect = async () => {
      const client = new Client({ name: 'two-instances-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${balanced}/mcp`), { fetch: viaBalancer });
      await client.connect(transport);
      return { client, transport };
    };

    const first = await connect();
    expect(first.transport.sessionId).toBeTruthy();
    expect((await first.client.listTools()).tools.length).toBeGreaterThan(0);

    await c.kill('SIGKILL');
    target = survivor;
    // The session's id reaches an instance that never had it: 404, with a JSON-RPC error saying to initialize again.
    const error = await first.client.listTools().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(404);
    const body = JSON.parse(String((error as Error).message).replace(/^.*?Error POSTing to endpoint: /s, ''));
    expect(body).toMatchObject({ jsonrpc: '2.0', error: { code: -32001, message: expect.stringMatching(/Session not found.*initialize/) } });

    // What the spec asks of the client then: a new session (initialize), which the survivor serves.
    const again = await connect();
    expect(again.transport.sessionId).not.toBe(first.transport.sessionId);
    const tools = await again.client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('search_block_types');
    await again.client.close();
    await first.client.close().catch(() => undefined);
  });
});

const post = (instance: ServiceInstance, path: string, body: unknown) =>
  fetch(`${instance.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** SSE events (id and parsed data) of a UI message stream body, up to `[DONE]`. */
function sseEvents(text: string): Array<{ id: number; data: UIMessageChunk }> {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data: ') && !block.includes('data: [DONE]'))
    .map((block) => ({ id: Number(/^id: (\d+)$/m.exec(block)![1]), data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as UIMessageChunk }));
}

/** When each of these instances' workers took up the deployment (their "deploying" log lines), in ms. */
function deployingAt(instances: ServiceInstance[], deploymentId: string): number[] {
  return instances.flatMap((i) =>
    i
      .logs()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; time: number; deployment_id?: string })
      .filter((l) => l.msg === 'deploying' && l.deployment_id === deploymentId)
      .map((l) => l.time),
  );
}

/** The version of the pipeline in its code location's pipeline.json (what Dagster loads). */
function locationVersion(workspaceDir: string, pipelineId: string): number | null {
  const files = readdirSync(join(workspaceDir, 'locations'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('pipeline.json'));
  const versions = files.map((f) => JSON.parse(readFileSync(join(workspaceDir, 'locations', f), 'utf8'))).filter((p) => p.pipeline?.id === pipelineId);
  expect(versions.length).toBeLessThanOrEqual(1);
  return versions[0]?.pipeline.version ?? null;
}

/** Whether Dagster serves the first shard's location, loaded without error. */
async function locationLoaded(dagster: DagsterServer): Promise<boolean> {
  const response = await fetch(dagster.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }' }),
  });
  const data = (await response.json()) as any;
  const entries = data.data.workspaceOrError.locationEntries as Array<{ name: string; locationOrLoadError: { __typename: string } }>;
  return entries.some((e) => e.name === 'local_shard_1' && e.locationOrLoadError.__typename === 'RepositoryLocation');
}
